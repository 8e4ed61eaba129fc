// A real OIDC provider (panva's oidc-provider) for Steward's web sign-in tests.
// Configured from the environment by tests/web/test_oidc_login.py:
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ACCOUNTS ({"login": ["group", ...]}).
// Its development interactions are the login and consent pages the browser goes through.
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || "{}");

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      redirect_uris: [process.env.REDIRECT_URI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // Steward asks for PKCE (S256) whatever the client: require it, so a flow without fails.
  pkce: { required: () => true },
  scopes: ["openid", "email", "profile", "groups"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
  // Put the scopes' claims in the ID token (Steward reads the ID token, not /userinfo).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    if (!(id in accounts)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.com`, email_verified: true, name: id, groups: accounts[id] };
      },
    };
  },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
