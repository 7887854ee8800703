CREATE TABLE "plugin_schemas" (
	"plugin_id" text PRIMARY KEY NOT NULL,
	"version" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	"snapshot_hash" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
