-- Users and API tokens of the HTTP API (store/auth.go).
-- Secrets are stored only as PBKDF2-SHA256 hashes whose parameters are part
-- of the stored string ("$pbkdf2-sha256$i=N$salt$hash").

CREATE TABLE users (
    name          TEXT    NOT NULL PRIMARY KEY COLLATE NOCASE,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'import')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL -- Unix nanoseconds
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('bearer', 'soticket')),
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'import')),
    secret_hash TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,           -- Unix nanoseconds
    expires_at  INTEGER NOT NULL DEFAULT 0, -- Unix nanoseconds; 0: never
    revoked_at  INTEGER NOT NULL DEFAULT 0  -- Unix nanoseconds; 0: active
);

-- One active token per name, so "token revoke NAME" names exactly one.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at = 0;

-- Bumped by every revocation, removal and password change, so processes
-- holding cached verifications notice changes made by another process.
CREATE TABLE auth_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO auth_generation (id, generation) VALUES (1, 0);
