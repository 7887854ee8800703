import { eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseDriver } from '../db/drivers/index.ts';
import type { ActiveDatabase } from '../db/active-database.ts';
import { DatabaseNotReadyError, type AppDatabase } from '../db/index.ts';
import { globalSettings, settingsEncryption, settingsVersion } from '../db/schema/index.ts';
import { AppError } from '../errors.ts';
// The API's own types: a secret's value never leaves the store, only whether it is set.
import type { SettingsGroup, SettingView } from '../schemas/settings.ts';
import type { SettingsCipher } from './crypto.ts';
import { resolveSettings, type JsonValue, type ResolvedSetting, type SettingsGroupDefinition } from './define.ts';
import type { CoreSettingKey, CoreSettingValue } from './index.ts';
import type { EncryptionKeys } from './keys.ts';
import { seedSettings } from './seed.ts';
import { problemWith } from './validate.ts';

/** NOTIFY channel: the payload is the key that changed. */
const SETTINGS_CHANNEL = 'groundwork_settings';
/** How often a replica that cannot LISTEN (transaction pooler only) looks at the change counter: changes arrive within about this. */
const SETTINGS_POLL_INTERVAL_MS = 2_000;

class UnknownSettingError extends AppError {
  constructor(key: string) {
    super(404, 'unknown_setting', `There is no setting "${key}". GET /api/settings lists them all.`);
  }
}

class InvalidSettingValueError extends AppError {
  constructor(message: string, fields?: Record<string, string>) {
    super(400, 'invalid_setting_value', message);
    if (fields) this.fields = fields;
  }
}

class UnknownSettingsGroupError extends AppError {
  constructor(groupId: string) {
    super(404, 'unknown_settings_group', `There is no settings group "${groupId}". GET /api/settings lists them all.`);
  }
}


interface StoredRow {
  key: string;
  type: string;
  isEncrypted: boolean;
  value: unknown;
}

/**
 * Global settings: definitions from code, values from the database, kept in memory. Reads never
 * touch the database; a change on any replica reaches the others through LISTEN/NOTIFY, or, where
 * only a transaction pooler is reachable, by polling the change counter (settings_version).
 */
export class SettingsStore {
  readonly definitions: Map<string, ResolvedSetting>;
  private values = new Map<string, JsonValue>();
  private cipher: SettingsCipher | null = null;
  /** Changes are applied once the database is active; keys that change before are reloaded then. */
  private following = false;
  private readonly missed = new Set<string>();
  /**
   * Change notifications applied to the values in memory, for metrics. Every replica gets every
   * notification (its own changes' too), so replicas that follow along show the same count.
   */
  private changesApplied = 0;
  /** When the last change notification from the database arrived (ms since epoch), for metrics. */
  private lastChangeReceived: number | null = null;
  /** Polling instead of LISTEN: the counter last seen (null: not polling), and the timer. */
  private seenVersion: number | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly active: ActiveDatabase,
    private readonly groups: readonly SettingsGroupDefinition[],
    private readonly keys: EncryptionKeys,
    private readonly log: FastifyBaseLogger,
  ) {
    this.definitions = resolveSettings(groups);
  }

  /** A new installation is likely (not set up yet): derive its settings key in the background. */
  prepareKeyForNewInstallation(): void {
    this.keys.deriveAheadForNewInstallation();
  }

  /** At start: derive this data folder's installation key in the background, before the database answers. */
  prepareKeyForThisInstallation(): void {
    this.keys.deriveAheadForThisInstallation();
  }

  /**
   * The `settings` setup phase, under the schema lock: check the encryption key against the
   * database, insert missing definitions, load values, then follow changes made elsewhere.
   */
  async prepare(lockedDb: AppDatabase, driver: DatabaseDriver): Promise<void> {
    this.detach();
    if (driver.changeFeed === 'poll') {
      this.cipher = await this.checkKey(lockedDb);
      await seedSettings(lockedDb, this.groups, this.definitions.values());
      // Read before the values: a change in between shows as a newer counter and is loaded again.
      this.seenVersion = await this.readVersion(lockedDb);
      await this.load(lockedDb);
      return;
    }
    // Listen first (its connection opens while we seed): a change made after the load below is
    // then never missed. Keys that arrive before follow() are reloaded then.
    const listening = driver.listen(SETTINGS_CHANNEL, this.onChange).then(
      () => null,
      (error: unknown) => error,
    );
    this.cipher = await this.checkKey(lockedDb);
    await seedSettings(lockedDb, this.groups, this.definitions.values());
    await this.load(lockedDb);
    const listenError = await listening;
    if (listenError) throw listenError;
  }

  /**
   * The instance moved to `driver` (same rows, so nothing to seed or load): follow the changes
   * made there. The old driver's listener ends when that driver closes.
   */
  async followDriver(driver: DatabaseDriver): Promise<void> {
    if (driver.changeFeed !== 'poll') {
      await driver.listen(SETTINGS_CHANNEL, this.onChange);
      return;
    }
    // Behind a transaction pooler: poll its counter (the poll reads the active database).
    this.seenVersion ??= await this.readVersion(driver.db);
    this.startPolling();
  }

  private readonly onChange = (key: string): void => {
    this.lastChangeReceived = Date.now();
    if (this.following) this.reload(key);
    else this.missed.add(key);
  };

  /** The database is active: apply changes from now on, and those that arrived while setting up. */
  follow(): void {
    this.following = true;
    for (const key of this.missed) this.reload(key);
    this.missed.clear();
    if (this.seenVersion !== null) this.startPolling();
  }

  private startPolling(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => void this.poll(), SETTINGS_POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  /** How many change notifications the values in memory have taken, and when the last one arrived. */
  get cacheState(): { version: number; lastChangeReceivedAt: number | null } {
    return { version: this.changesApplied, lastChangeReceivedAt: this.lastChangeReceived };
  }

  /** A core setting's current value, typed by its definition. */
  get<K extends CoreSettingKey>(key: K): CoreSettingValue<K> {
    return this.value(key) as CoreSettingValue<K>;
  }

  /** Any setting's current value (plugins' settings included): the stored one, else the default. */
  value(key: string): JsonValue {
    const definition = this.definitions.get(key);
    if (!definition) throw new UnknownSettingError(key);
    return this.values.get(key) ?? definition.default;
  }

  list(): SettingsGroup[] {
    return [...this.groups]
      .sort((a, b) => a.sortOrder - b.sortOrder)
      .map(({ id, name, description, sortOrder, settings }) => ({
        id,
        name,
        description,
        sortOrder,
        settings: Object.keys(settings).map((settingName) => this.view(`${id}.${settingName}`)),
      }));
  }

  view(key: string): SettingView {
    const definition = this.definitions.get(key);
    if (!definition) throw new UnknownSettingError(key);
    const view: SettingView = {
      key,
      group: definition.groupId,
      name: definition.name,
      description: definition.description,
      type: definition.type,
      encrypted: definition.encrypted === true,
      required: definition.required === true,
      setup: definition.setup === true,
      is_set: this.values.has(key),
    };
    if (definition.validation) {
      const { enum: choices, ...rules } = definition.validation;
      view.validation = choices ? { ...rules, enum: [...choices] } : rules;
    }
    if (!definition.encrypted) {
      view.value = this.value(key);
      view.default = definition.default;
    }
    return view;
  }

  /** Validates, stores (encrypting secrets, always), tells the other replicas. null goes back to the default. */
  async set(key: string, value: unknown): Promise<SettingView> {
    const definition = this.definitions.get(key);
    if (!definition) throw new UnknownSettingError(key);
    const problem = problemWith(definition, value);
    if (problem) throw new InvalidSettingValueError(problem);
    const stored = value === null ? null : this.encode(definition, value as JsonValue);
    await this.write(this.active.db, definition, stored);
    this.remember(key, value as JsonValue | null);
    return this.view(key);
  }

  /**
   * Several settings of one group: every value is checked first (a 400 names each refused key),
   * then all are written in one transaction, so either all change or none.
   */
  async setGroup(groupId: string, values: Record<string, unknown>): Promise<SettingsGroup> {
    const group = this.groups.find((candidate) => candidate.id === groupId);
    if (!group) throw new UnknownSettingsGroupError(groupId);
    const problems: Record<string, string> = {};
    const changes: Array<{ definition: ResolvedSetting; value: JsonValue | null }> = [];
    for (const [key, value] of Object.entries(values)) {
      const definition = this.definitions.get(key);
      const problem = definition?.groupId !== groupId ? `${key} is not a setting of the group ${groupId}.` : problemWith(definition, value);
      if (problem) problems[key] = problem;
      else changes.push({ definition: definition!, value: value as JsonValue | null });
    }
    const refused = Object.keys(problems);
    if (refused.length > 0) {
      const message = `Nothing was saved: ${refused.length === 1 ? problems[refused[0]!] : `${refused.length} settings are not valid (${refused.join(', ')}).`}`;
      throw new InvalidSettingValueError(message, problems);
    }
    const encoded = changes.map(({ definition, value }) => ({ definition, value, stored: value === null ? null : this.encode(definition, value) }));
    await this.active.db.transaction(async (tx) => {
      for (const { definition, stored } of encoded) await this.write(tx, definition, stored);
    });
    for (const { definition, value } of encoded) this.remember(definition.key, value);
    return this.list().find((listed) => listed.id === groupId)!;
  }

  /** One round trip per setting: the update, the change counter and the notification, in one statement (so one transaction). */
  private async write(db: Pick<AppDatabase, 'execute'>, definition: ResolvedSetting, stored: JsonValue | null): Promise<void> {
    await db.execute(sql`
      with updated as (
        update ${globalSettings} set value = ${stored === null ? null : JSON.stringify(stored)}::jsonb,
          type = ${definition.type}, is_encrypted = ${definition.encrypted === true}, updated_at = now()
        where ${globalSettings.key} = ${definition.key} returning key
      ), bumped as (
        insert into ${settingsVersion} (id, version) select 1, 1 from updated
        on conflict (id) do update set version = ${settingsVersion}.version + 1
      )
      select pg_notify(${SETTINGS_CHANNEL}, key) from updated`);
  }

  private remember(key: string, value: JsonValue | null): void {
    if (value === null) this.values.delete(key);
    else this.values.set(key, value);
  }

  /** Stops applying changes (shutdown, a failed setup). */
  detach(): void {
    this.following = false;
    this.missed.clear();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.seenVersion = null;
  }

  private async readVersion(db: AppDatabase): Promise<number> {
    const [row] = await db.select({ version: settingsVersion.version }).from(settingsVersion);
    return row?.version ?? 0;
  }

  /** Polling: reload everything when the counter moved (a change on any replica, this one's included). */
  private async poll(): Promise<void> {
    if (!this.following || this.seenVersion === null || this.polling) return;
    this.polling = true;
    try {
      const db = this.active.db;
      const version = await this.readVersion(db);
      if (version === this.seenVersion) return;
      this.lastChangeReceived = Date.now();
      await this.load(db);
      // Not bumped by a detach() meanwhile: only then is this load the current one.
      if (this.seenVersion !== null) this.seenVersion = version;
    } catch (error) {
      // Not ready or not answering: the next tick tries again.
      this.log.debug({ err: error }, 'Could not poll settings changes');
    } finally {
      this.polling = false;
    }
  }

  /** The only way a value reaches the database: secrets as ciphertext, whatever the caller. */
  private encode(definition: ResolvedSetting, value: JsonValue): JsonValue {
    if (!definition.encrypted) return value;
    if (!this.cipher) throw new DatabaseNotReadyError();
    return this.cipher.encrypt(JSON.stringify(value), definition.key);
  }

  /**
   * The stored value in plain form. A setting defined as encrypted takes only ciphertext that
   * authenticates with this instance's key: the row's is_encrypted flag is the database's word,
   * and whoever can write the database must not be able to plant a secret by flipping it.
   */
  private decode(definition: ResolvedSetting, row: StoredRow): JsonValue {
    if (!definition.encrypted && !row.isEncrypted) return row.value as JsonValue;
    if (!this.cipher) throw new DatabaseNotReadyError();
    if (typeof row.value !== 'string') throw new Error('it is not ciphertext');
    return JSON.parse(this.cipher.decrypt(row.value, row.key)) as JsonValue;
  }

  private async checkKey(db: AppDatabase): Promise<SettingsCipher> {
    const [recorded] = await db.select({ keyId: settingsEncryption.keyId, kdfSalt: settingsEncryption.kdfSalt }).from(settingsEncryption);
    const cipher = await this.keys.resolve(recorded ?? null);
    if (!recorded) await db.insert(settingsEncryption).values({ keyId: cipher.keyId, kdfSalt: cipher.kdfSalt }).onConflictDoNothing();
    return cipher;
  }

  private async load(db: AppDatabase, key?: string): Promise<void> {
    const columns = { key: globalSettings.key, type: globalSettings.type, isEncrypted: globalSettings.isEncrypted, value: globalSettings.value };
    const rows: StoredRow[] = key
      ? await db.select(columns).from(globalSettings).where(eq(globalSettings.key, key))
      : await db.select(columns).from(globalSettings);
    // A full reload fills a new map and swaps it in, so readers never see a half-loaded state.
    const target = key ? this.values : new Map<string, JsonValue>();
    const undeclared: string[] = [];
    for (const row of rows) {
      const definition = this.definitions.get(row.key);
      if (!definition) {
        undeclared.push(row.key);
        continue;
      }
      target.delete(row.key);
      if (row.value === null) continue;
      const value = await this.accept(db, definition, row);
      if (value !== null) target.set(row.key, value);
    }
    if (!key) this.values = target;
    if (undeclared.length > 0) {
      this.log.warn(`Settings in the database that no code declares any more (kept, not deleted): ${undeclared.join(', ')}`);
    }
  }

  /**
   * A stored value this process may use, or null (the default) for one that does not fit its
   * definition: that is logged and never stops the instance. The row is left as it is.
   */
  private async accept(db: AppDatabase, definition: ResolvedSetting, row: StoredRow): Promise<JsonValue | null> {
    let value: JsonValue;
    try {
      value = this.decode(definition, row);
    } catch (error) {
      // Never the value itself in the log: it may be a secret.
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error(`Ignoring the stored value of ${row.key} and using the default: it is not ciphertext from this instance's key, so the database may have been tampered with (${reason}). Set it again to replace it.`);
      return null;
    }
    if (row.type !== definition.type || (row.isEncrypted && !definition.encrypted)) return this.convert(db, definition, value);
    const problem = problemWith(definition, value);
    if (problem) this.log.warn(`Ignoring the stored value of ${row.key} and using the default: ${problem}`);
    return problem ? null : value;
  }

  /** A definition changed type or is no longer encrypted: store the value the new way, or fall back to the default. */
  private async convert(db: AppDatabase, definition: ResolvedSetting, value: JsonValue): Promise<JsonValue | null> {
    const problem = problemWith(definition, value);
    if (problem) this.log.warn(`${definition.key} changed its definition; its stored value no longer fits (${problem}), so it is reset to the default.`);
    const stored = problem ? null : this.encode(definition, value);
    await db
      .update(globalSettings)
      .set({ type: definition.type, isEncrypted: definition.encrypted === true, value: stored, updatedAt: sql`now()` })
      .where(eq(globalSettings.key, definition.key));
    return problem ? null : value;
  }

  /** A change made on another replica ('*': maybe several, after a lost connection came back). */
  private reload(key: string): void {
    this.load(this.active.db, key === '*' ? undefined : key).then(
      () => void (this.changesApplied += 1),
      (error: unknown) => this.log.error({ err: error }, `Could not reload setting ${key}`),
    );
  }
}
