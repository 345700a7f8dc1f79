// Identity: the OpenID providers' storage, signing keys, registered clients, user accounts, their
// security keys and one-time challenges. Secrets (private keys, client secrets, TOTP seeds) are sealed with the
// platform's master key before they reach these tables; passwords are scrypt hashes.
import type { Migration } from './index.ts';

export const auth: Migration = {
  version: 6,
  name: 'auth: oidc storage, keys, clients, accounts',
  async up(tx) {
    await tx.exec(`
      -- oidc-provider's models (sessions, grants, codes, tokens, interactions), one row each.
      CREATE TABLE auth_oidc_payload (
        issuer text NOT NULL,
        model text NOT NULL,
        id text NOT NULL,
        payload text NOT NULL,
        grant_id text,
        uid text,
        expires_at timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (issuer, model, id)
      );
      CREATE INDEX auth_oidc_payload_grant ON auth_oidc_payload (issuer, grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX auth_oidc_payload_uid ON auth_oidc_payload (issuer, uid) WHERE uid IS NOT NULL;
      CREATE INDEX auth_oidc_payload_expiry ON auth_oidc_payload (expires_at);

      CREATE TABLE auth_signing_key (
        issuer text NOT NULL,
        kid text NOT NULL,
        alg text NOT NULL,
        sealed_jwk text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- a retired key still verifies (it stays in the JWKS) but no longer signs
        retired_at timestamptz,
        PRIMARY KEY (issuer, kid)
      );

      CREATE TABLE auth_client (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        sealed_secret text,
        -- JSON text: issuers ("pro", "patient"), redirect and logout URIs, scopes, public JWKS
        issuers text NOT NULL,
        redirect_uris text NOT NULL,
        post_logout_redirect_uris text NOT NULL,
        scopes text NOT NULL,
        grant_types text NOT NULL,
        auth_method text NOT NULL,
        jwks text,
        tls_subject_dn text,
        userinfo_signed boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE auth_account (
        id text PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('professional', 'patient')),
        -- idNat_PS for professionals, INS (NIR or NIA) for patients
        login text NOT NULL,
        resource_id text,
        password_hash text,
        sealed_totp_secret text,
        -- last accepted TOTP time step: a code is accepted once
        totp_last_step bigint,
        second_factor text NOT NULL CHECK (second_factor IN ('totp', 'otp')),
        contact text,
        failed_count integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, login)
      );

      -- FIDO2 security keys of professionals (WebAuthn).
      CREATE TABLE auth_webauthn_credential (
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES auth_account (id) ON DELETE CASCADE,
        public_key text NOT NULL,
        counter bigint NOT NULL DEFAULT 0,
        transports text NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      );
      CREATE INDEX auth_webauthn_credential_account ON auth_webauthn_credential (account_id);

      -- A login in progress (password checked, second factor awaited), an account recovery, or a
      -- WebAuthn ceremony (its challenge in nonce).
      CREATE TABLE auth_challenge (
        id text PRIMARY KEY,
        account_id text NOT NULL REFERENCES auth_account (id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('login', 'recovery', 'webauthn-enrol', 'webauthn-login')),
        -- the interaction the challenge belongs to: a code is only good in the browser that asked for it
        binding text NOT NULL,
        code_hash text,
        nonce text,
        attempts integer NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX auth_challenge_binding ON auth_challenge (binding, purpose);
    `);
  },
};
