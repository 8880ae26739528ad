-- warmroute history store, version 1 (PostgreSQL). Applied by Flyway when a member starts (SessionDatabase.migrate);
-- Token lists are BYTEA, 4 bytes per id, big-endian.
-- never edit an applied version: add V2__... instead.
-- One row per session (settings, window start, version, incarnation) and one row per committed turn, keyed by
-- (session id, turn index): a repeated write of the same turn is a no-op, a different turn at a taken index is refused.
CREATE TABLE warmroute_session (
    session_id            VARCHAR(128) PRIMARY KEY,
    incarnation           VARCHAR(64)  NOT NULL,
    create_digest         VARCHAR(128) NOT NULL,
    owner                 VARCHAR(256) NOT NULL,
    model_id              VARCHAR(512) NOT NULL,
    system_prompt         TEXT         NOT NULL,
    system_tokens         BYTEA        NOT NULL,
    tokenizer_fingerprint VARCHAR(256) NOT NULL,
    context_budget_tokens INTEGER      NOT NULL,
    pruning_policy        INTEGER      NOT NULL,
    low_watermark_percent INTEGER      NOT NULL,
    temperature           REAL         NOT NULL,
    top_p                 REAL         NOT NULL,
    seed                  BIGINT       NOT NULL,
    max_tokens            INTEGER      NOT NULL,
    window_start          INTEGER      NOT NULL,
    version               BIGINT       NOT NULL,
    create_time_ms        BIGINT       NOT NULL,
    update_time_ms        BIGINT       NOT NULL
);
CREATE INDEX warmroute_session_owner ON warmroute_session (owner);

CREATE TABLE warmroute_turn (
    session_id       VARCHAR(128) NOT NULL REFERENCES warmroute_session (session_id) ON DELETE CASCADE,
    turn_index       INTEGER      NOT NULL,
    request_id       VARCHAR(256) NOT NULL,
    attempt_id       VARCHAR(64)  NOT NULL,
    user_text        TEXT         NOT NULL,
    user_tokens      BYTEA        NOT NULL,
    assistant_text   TEXT         NOT NULL,
    assistant_tokens BYTEA        NOT NULL,
    finish_reason    INTEGER      NOT NULL,
    worker_id        VARCHAR(256) NOT NULL,
    prompt_tokens    INTEGER      NOT NULL,
    create_time_ms   BIGINT       NOT NULL,
    PRIMARY KEY (session_id, turn_index)
);
