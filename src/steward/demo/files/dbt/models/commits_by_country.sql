-- Commits and authors per country: every author's commits, by the country of their account.
select
    users.country,
    users.region,
    count(commits.sha) as commits,
    count(distinct commits.author_email) as authors
from {{ source('git', 'commits') }} as commits
join {{ source('crm', 'users') }} as users on users.email = commits.author_email
group by users.country, users.region
order by users.country
