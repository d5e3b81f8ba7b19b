// A real OpenID provider on loopback for the single sign-on tests: npm's oidc-provider
// (OpenID-certified) with its development login pages, one confidential client and a few
// staff accounts. Configured by the JSON in OIDC_TEST_CONFIG:
// {port, client_id, client_secret, redirect_uris, jwks, accounts: {login: claims}}.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: config.jwks,
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // put email in the ID token too
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['eventhub-test-only'] },
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
