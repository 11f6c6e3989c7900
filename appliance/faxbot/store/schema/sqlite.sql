-- The newest schema for sqlite, rendered from faxbot/store/tables.py by
-- `python -m faxbot.store.schema_sql`. Do not edit by hand.

CREATE TABLE jobs (
	id VARCHAR(32) NOT NULL, 
	to_number VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	phase VARCHAR(16) NOT NULL, 
	pages INTEGER NOT NULL, 
	error TEXT, 
	backend VARCHAR(40) NOT NULL, 
	provider_sid VARCHAR(200), 
	document_key VARCHAR(64) NOT NULL, 
	api_key_id VARCHAR(64) NOT NULL, 
	idempotency_key VARCHAR(255), 
	request_hash VARCHAR(64) NOT NULL, 
	attempts INTEGER NOT NULL, 
	polls INTEGER NOT NULL, 
	next_action_at FLOAT NOT NULL, 
	sent_at FLOAT, 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_jobs_idempotency UNIQUE (api_key_id, idempotency_key)
);

CREATE INDEX ix_jobs_created ON jobs (created_at, id);

CREATE INDEX ix_jobs_owner_created ON jobs (api_key_id, created_at, id);

CREATE INDEX ix_jobs_phase_next ON jobs (phase, next_action_at);

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
