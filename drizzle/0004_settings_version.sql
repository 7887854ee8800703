CREATE TABLE "settings_version" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"version" bigint NOT NULL,
	CONSTRAINT "settings_version_single_row" CHECK ("settings_version"."id" = 1)
);
