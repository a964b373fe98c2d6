-- Single sign-on (OpenID Connect). A user who signs in through an identity provider is bound
-- to that provider's subject: the name is theirs from their first sign-in, and a built-in user
-- of the same name is never taken over.
ALTER TABLE users ADD COLUMN issuer TEXT;
ALTER TABLE users ADD COLUMN subject TEXT;
CREATE UNIQUE INDEX users_by_subject ON users (issuer, subject) WHERE issuer IS NOT NULL;

-- Sign-ins sent to the identity provider and not back yet: the state (stored as its SHA-256),
-- the nonce the ID token must carry, the PKCE verifier and where to go afterwards. Each is
-- used once, within ten minutes.
CREATE TABLE sso_logins (
    state_hash  TEXT    PRIMARY KEY NOT NULL,
    nonce       TEXT    NOT NULL,
    verifier    TEXT    NOT NULL,
    next        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
