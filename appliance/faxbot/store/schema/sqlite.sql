-- The newest schema for sqlite, rendered from faxbot/store/tables.py by
-- `python -m faxbot.store.schema_sql`. Do not edit by hand.

CREATE TABLE document_links (
	token_sha256 VARCHAR(64) NOT NULL, 
	document_key VARCHAR(64) NOT NULL, 
	expires_at FLOAT NOT NULL, 
	used_at FLOAT, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (token_sha256)
);

CREATE INDEX ix_document_links_expires ON document_links (expires_at);

CREATE TABLE inbound_faxes (
	id VARCHAR(32) NOT NULL, 
	sender VARCHAR(32), 
	recipient VARCHAR(32), 
	pages INTEGER, 
	received_at FLOAT NOT NULL, 
	provider VARCHAR(40) NOT NULL, 
	provider_sid VARCHAR(200) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	document_key VARCHAR(64) NOT NULL, 
	document_deleted_at FLOAT, 
	created_at FLOAT NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_inbound_provider_sid UNIQUE (provider, provider_sid)
);

CREATE INDEX ix_inbound_created ON inbound_faxes (created_at);

CREATE INDEX ix_inbound_received ON inbound_faxes (received_at, id);

CREATE INDEX ix_inbound_recipient_received ON inbound_faxes (recipient, received_at, id);

CREATE INDEX ix_inbound_sender_received ON inbound_faxes (sender, received_at, id);

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
	document_deleted_at FLOAT, 
	lease_owner VARCHAR(64), 
	lease_expires_at FLOAT, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_jobs_idempotency UNIQUE (api_key_id, idempotency_key)
);

CREATE INDEX ix_jobs_backend_sid ON jobs (backend, provider_sid);

CREATE INDEX ix_jobs_created ON jobs (created_at, id);

CREATE INDEX ix_jobs_lease_owner ON jobs (lease_owner);

CREATE INDEX ix_jobs_owner_created ON jobs (api_key_id, created_at, id);

CREATE INDEX ix_jobs_owner_status_created ON jobs (api_key_id, status, created_at, id);

CREATE INDEX ix_jobs_owner_to_created ON jobs (api_key_id, to_number, created_at, id);

CREATE INDEX ix_jobs_phase_next ON jobs (phase, next_action_at);

CREATE INDEX ix_jobs_to_created ON jobs (to_number, created_at, id);

CREATE INDEX ix_jobs_updated ON jobs (updated_at);

CREATE TABLE rate_buckets (
	name VARCHAR(80) NOT NULL, 
	tokens FLOAT NOT NULL, 
	at FLOAT NOT NULL, 
	taken BOOLEAN NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE sweep_passes (
	name VARCHAR(40) NOT NULL, 
	began_at FLOAT NOT NULL, 
	replica VARCHAR(64) NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE webhook_events (
	plugin VARCHAR(40) NOT NULL, 
	event_id VARCHAR(200) NOT NULL, 
	received_at FLOAT NOT NULL, 
	PRIMARY KEY (plugin, event_id)
);

CREATE INDEX ix_webhook_events_received ON webhook_events (received_at);

CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
