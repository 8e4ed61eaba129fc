"""Who is calling: principals and the API tokens that prove them."""
