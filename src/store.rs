//! Persistence of agent state in an embedded SQLite database (bundled SQLite, WAL mode), or in
//! memory.
//!
//! The store holds opaque records by name (`identity`, `session/<hex>`, ...); the agent encrypts
//! each with the caller's storage key and binds it to its name (see [`crate::state`]), so the
//! database never sees a secret. Every change of one agent call is written in one transaction,
//! committed before the call returns its output. The database is opened in exclusive locking
//! mode: a second process (or handle) opening it gets `StoreLocked`, never a shared file.
//!
//! **Names.** A row is not found by its record's name, which would show the contact list and the
//! group memberships to anyone who reads the file, but by a keyed PRF of it: the row id
//! `HMAC-SHA256(K_id, name)`. The name itself is kept beside it, sealed under `K_name` with the
//! row id as associated data, so that [`Store::load_all`] can give it back. Both keys are derived
//! from the storage key when the store is opened ([`RowKeys`]); the agent deals in real names only.
//!
//! **No older state at rest.** `secure_delete` zeroes what a replaced or deleted record leaves
//! behind in the database file, and every commit is followed by a checkpoint that copies the WAL
//! into the database file and truncates the WAL to zero bytes: when a call returns, the files hold
//! the current version of each record and nothing older (docs/SECURITY.md says what the file
//! system may still keep). The files are created readable by their owner only.
//!
//! Schema version 2:
//! ```sql
//! CREATE TABLE meta    (name TEXT PRIMARY KEY, value INTEGER NOT NULL);  -- 'schema_version'
//! CREATE TABLE records (id BLOB PRIMARY KEY, name BLOB NOT NULL, kind INTEGER NOT NULL,
//!                       value BLOB NOT NULL);
//! ```

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::kdf::hmac_sha256;
use crate::crypto::{AeadKey, aead};
use crate::error::{Error, Result};
use crate::limits::{AEAD_OVERHEAD, KEY_LEN};
use crate::state::StorageKey;

/// The schema version this build writes. A store of another version is refused
/// (`UnsupportedVersion`): version 1 (names in clear) is a draft format that is not migrated.
pub const SCHEMA_VERSION: i64 = 2;

/// Length of a row id: an HMAC-SHA256 output.
pub const ROW_ID_LEN: usize = 32;

/// Longest record name the store takes. The agent's longest is `member/<64 hex>/<64 hex>`
/// (136 bytes); the bound keeps a sealed name read back from the file small.
pub const MAX_RECORD_NAME_LEN: usize = 256;

/// Upper bound on the WAL file's size after a checkpoint (`PRAGMA journal_size_limit`). Every
/// commit already checkpoints with `TRUNCATE`; this covers SQLite's own automatic checkpoints
/// (if one of ours failed), so that the WAL never keeps frames of older records beyond the next
/// checkpoint, and never grows without bound.
pub const WAL_SIZE_LIMIT: i64 = 0;

/// Mode of the database file and of the WAL and journal files SQLite creates beside it (SQLite
/// gives them the database file's permissions): readable and writable by the owner only.
#[cfg(unix)]
pub const STORE_FILE_MODE: u32 = 0o600;

/// HKDF info of `K_id`, the key of row ids.
const ROW_ID_LABEL: &[u8] = b"DMP1 store row id";
/// HKDF info of `K_name`, the key that seals row names.
const ROW_NAME_LABEL: &[u8] = b"DMP1 store row name";
/// Prefix of a sealed name's associated data (followed by its row id).
const NAME_AD_LABEL: &[u8] = b"DMP1 store name";

/// One change of a transaction.
#[derive(Debug)]
pub enum Change {
    /// Insert or replace a record.
    Put {
        /// Record name.
        name: String,
        /// Record kind (the state record kind byte).
        kind: u8,
        /// The sealed record.
        value: Vec<u8>,
    },
    /// Delete a record (absent is fine).
    Delete {
        /// Record name.
        name: String,
    },
}

/// `K_id`: the HMAC-SHA256 key that turns a record name into its row id.
#[derive(Zeroize, ZeroizeOnDrop)]
struct RowIdKey([u8; KEY_LEN]);

impl RowIdKey {
    /// The row id of `name`: `HMAC-SHA256(K_id, name)`.
    fn row_id(&self, name: &str) -> [u8; ROW_ID_LEN] {
        hmac_sha256(&self.0, name.as_bytes())
    }
}

/// `K_name`: the XChaCha20-Poly1305 key that seals a record name beside its row id.
struct RowNameKey(AeadKey);

fn name_ad(id: &[u8; ROW_ID_LEN]) -> [u8; NAME_AD_LABEL.len() + ROW_ID_LEN] {
    let mut ad = [0u8; NAME_AD_LABEL.len() + ROW_ID_LEN];
    ad[..NAME_AD_LABEL.len()].copy_from_slice(NAME_AD_LABEL);
    ad[NAME_AD_LABEL.len()..].copy_from_slice(id);
    ad
}

impl RowNameKey {
    /// `nonce || ciphertext || tag` of `name`, bound to its row id.
    fn seal(&self, id: &[u8; ROW_ID_LEN], name: &str) -> Result<Vec<u8>> {
        aead::seal(&self.0, &name_ad(id), name.as_bytes())
    }

    /// The name sealed in `sealed` for row `id`. Too long, or not UTF-8: `BadState`; not
    /// authentic (another key, another row's name, tampered): `WrongStorageKey`.
    fn open(&self, id: &[u8; ROW_ID_LEN], sealed: &[u8]) -> Result<String> {
        if sealed.len() > MAX_RECORD_NAME_LEN + AEAD_OVERHEAD {
            return Err(Error::BadState);
        }
        let name = aead::open(&self.0, &name_ad(id), sealed).map_err(|_| Error::WrongStorageKey)?;
        String::from_utf8(name).map_err(|_| Error::BadState)
    }
}

/// The keys a persistent store derives from the storage key when it is opened.
struct RowKeys {
    id: RowIdKey,
    name: RowNameKey,
}

impl RowKeys {
    fn derive(key: &StorageKey) -> RowKeys {
        RowKeys {
            id: RowIdKey(*key.derive(ROW_ID_LABEL)),
            name: RowNameKey(AeadKey::from_bytes(*key.derive(ROW_NAME_LABEL))),
        }
    }
}

/// An open database and the keys of its row names.
struct Disk {
    conn: Connection,
    keys: RowKeys,
}

/// Where an agent's records live.
pub struct Store {
    disk: Option<Disk>,
    /// A `COMMIT` failed: whether its transaction is durable is not known, so this handle
    /// writes nothing more (every commit is `StoreFailed`) until the store is opened again, which
    /// reads what is durable.
    uncertain: bool,
    /// Tests: how the next commit fails.
    #[cfg(test)]
    pub(crate) fail_next_commit: Option<TestFailure>,
}

/// Tests: a commit that fails before anything is written, or at its `COMMIT` (uncertain).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TestFailure {
    Statement,
    Commit,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.disk.is_some() { "Store(sqlite)" } else { "Store(memory)" })
    }
}

fn map_err(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::StoreLocked,
        _ => Error::StoreFailed,
    }
}

/// Creates the database file readable by its owner only, before SQLite opens it (SQLite would
/// create it with the process umask, and gives the WAL and journal the database file's mode).
/// An existing database file, or a WAL or journal left beside it, that others may read is
/// narrowed to the owner: it holds the same records.
#[cfg(unix)]
fn restrict_files(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(STORE_FILE_MODE)
        .open(path)
        .map_err(|_| Error::StoreFailed)?;
    for suffix in ["", "-wal", "-journal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let file = Path::new(&side);
        let Ok(meta) = std::fs::metadata(file) else { continue };
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(STORE_FILE_MODE))
                .map_err(|_| Error::StoreFailed)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_files(_path: &Path) -> Result<()> {
    Ok(())
}

/// Copies the WAL into the database file and truncates the WAL to zero bytes, so that no older
/// page image (an older version of a record) stays in it.
fn checkpoint(conn: &Connection) -> Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).map_err(map_err)?;
    if busy != 0 {
        return Err(Error::StoreLocked);
    }
    Ok(())
}

impl Store {
    /// A store that keeps nothing: state lives and dies with the agent.
    pub fn memory() -> Store {
        Store {
            disk: None,
            uncertain: false,
            #[cfg(test)]
            fail_next_commit: None,
        }
    }

    /// Whether records are persisted.
    pub fn is_persistent(&self) -> bool {
        self.disk.is_some()
    }

    /// Opens (creating if needed, readable by its owner only) the database at `path`, takes its
    /// exclusive lock and checks its schema; row names are keyed by `key`. Errors: `StoreLocked`
    /// (in use), `StoreFailed` (not a database, unreadable), `UnsupportedVersion` (another schema
    /// version). A wrong `key` is found by [`load_all`](Self::load_all).
    pub fn open(path: &Path, key: &StorageKey) -> Result<Store> {
        restrict_files(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
        conn.busy_timeout(Duration::ZERO).map_err(map_err)?;
        // Exclusive locking before WAL: the lock is held from the first transaction until close,
        // and WAL then needs no shared memory. FULL sync: a committed transaction survives power loss.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(map_err)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(map_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::StoreFailed);
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
        // Zero what a replaced or deleted record leaves in a page or on the freelist.
        let secure: i64 = conn.query_row("PRAGMA secure_delete = ON", [], |r| r.get(0)).map_err(map_err)?;
        if secure != 1 {
            return Err(Error::StoreFailed);
        }
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT).map_err(map_err)?;
        // Statement journals and temporary b-trees in memory: spilled to a temporary file they
        // would put copies of sealed records (old ones included) in unlinked files under /tmp.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(map_err)?;
        let mut store = Store {
            disk: Some(Disk { conn, keys: RowKeys::derive(key) }),
            uncertain: false,
            #[cfg(test)]
            fail_next_commit: None,
        };
        store.migrate()?;
        // A previous handle may have stopped between a commit and its checkpoint.
        checkpoint(&store.disk.as_ref().ok_or(Error::Internal)?.conn)?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let disk = self.disk.as_mut().ok_or(Error::Internal)?;
        // An exclusive transaction takes (and, in exclusive locking mode, keeps) the lock now.
        let tx =
            disk.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).map_err(map_err)?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);")
            .map_err(map_err)?;
        let version: Option<i64> = tx
            .query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get(0))
            .map(Some)
            .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
            .map_err(map_err)?;
        match version {
            None => {
                // Not IF NOT EXISTS: a `records` table without a version is not ours.
                tx.execute_batch(
                    "CREATE TABLE records (id BLOB PRIMARY KEY, name BLOB NOT NULL, kind INTEGER NOT NULL, \
                     value BLOB NOT NULL);",
                )
                .map_err(map_err)?;
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION],
                )
                .map_err(map_err)?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            // Version 1 named rows in clear; it is a draft format and is not migrated.
            Some(v) if v == 1 || v > SCHEMA_VERSION => return Err(Error::UnsupportedVersion),
            Some(_) => return Err(Error::StoreFailed),
        }
        tx.commit().map_err(map_err)
    }

    /// Every record: (name, kind, sealed value). A row whose name does not open under this
    /// store's key (another storage key, a name moved from another row, tampering) is
    /// `WrongStorageKey`; a row id that is not the name's, or a malformed row, `BadState`.
    pub fn load_all(&self) -> Result<Vec<(String, u8, Vec<u8>)>> {
        let Some(disk) = &self.disk else { return Ok(Vec::new()) };
        let mut stmt = disk.conn.prepare("SELECT id, name, kind, value FROM records").map_err(map_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            })
            .map_err(map_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sealed_name, kind, value) = row.map_err(map_err)?;
            let kind = u8::try_from(kind).map_err(|_| Error::StoreFailed)?;
            let id: [u8; ROW_ID_LEN] = id.try_into().map_err(|_| Error::BadState)?;
            let name = disk.keys.name.open(&id, &sealed_name)?;
            if disk.keys.id.row_id(&name) != id {
                return Err(Error::BadState);
            }
            out.push((name, kind, value));
        }
        Ok(out)
    }

    /// Applies `changes` in one transaction: all or nothing.
    ///
    /// A failure before the `COMMIT` statement rolls the transaction back: nothing was written,
    /// and the next call may succeed. A failure *of* the `COMMIT` (an I/O error while the WAL
    /// was being written or synced) leaves it unknown whether the transaction is durable; writing
    /// on from an in-memory state that may be behind the file could seal two messages under one
    /// key (one queued in the durable outbox, one sent), so the handle refuses every later commit
    /// with `StoreFailed`, and the agent must be opened again.
    ///
    /// After the `COMMIT`, a checkpoint empties the WAL. Its failure is not the call's: the
    /// transaction is durable, and the caller must go on from it (returning an error would leave
    /// the in-memory state behind the file). The next commit, or the next open, checkpoints again.
    pub fn commit(&mut self, changes: &[Change]) -> Result<()> {
        if self.uncertain {
            return Err(Error::StoreFailed);
        }
        #[cfg(test)]
        match self.fail_next_commit.take() {
            Some(TestFailure::Statement) => return Err(Error::StoreFailed),
            Some(TestFailure::Commit) => {
                self.uncertain = true;
                return Err(Error::StoreFailed);
            }
            None => {}
        }
        let Some(disk) = self.disk.as_mut() else { return Ok(()) };
        if changes.is_empty() {
            return Ok(());
        }
        let keys = &disk.keys;
        let tx = disk.conn.transaction().map_err(map_err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO records (id, name, kind, value) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(map_err)?;
            let mut del = tx.prepare_cached("DELETE FROM records WHERE id = ?1").map_err(map_err)?;
            for c in changes {
                match c {
                    Change::Put { name, kind, value } => {
                        if name.len() > MAX_RECORD_NAME_LEN {
                            return Err(Error::InvalidArgument);
                        }
                        let id = keys.id.row_id(name);
                        let sealed_name = keys.name.seal(&id, name)?;
                        put.execute(params![&id[..], sealed_name, *kind as i64, value])
                    }
                    Change::Delete { name } => del.execute(params![&keys.id.row_id(name)[..]]),
                }
                .map_err(map_err)?;
            }
        }
        if let Err(e) = tx.commit() {
            self.uncertain = true;
            return Err(map_err(e));
        }
        // Not an error of the call (see above); a later commit or open tries again.
        let _ = checkpoint(&disk.conn);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StorageKey {
        StorageKey::from_bytes([7; 32])
    }

    fn temp_path(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dmp-store-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("agent.db")
    }

    fn side(path: &Path, suffix: &str) -> std::path::PathBuf {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        s.into()
    }

    fn put(name: &str, value: &[u8]) -> Change {
        Change::Put { name: name.into(), kind: 1, value: value.to_vec() }
    }

    #[test]
    fn records_survive_reopen_and_changes_are_atomic() {
        let path = temp_path("reopen");
        {
            let mut s = Store::open(&path, &key()).unwrap();
            s.commit(&[
                Change::Put { name: "a".into(), kind: 1, value: vec![1, 2] },
                Change::Put { name: "b".into(), kind: 2, value: vec![3] },
            ])
            .unwrap();
            s.commit(&[Change::Delete { name: "b".into() }]).unwrap();
        }
        let s = Store::open(&path, &key()).unwrap();
        assert_eq!(s.load_all().unwrap(), vec![("a".to_string(), 1, vec![1, 2])]);
    }

    #[test]
    fn a_second_open_is_refused_while_the_first_is_open() {
        let path = temp_path("lock");
        let first = Store::open(&path, &key()).unwrap();
        assert_eq!(Store::open(&path, &key()).unwrap_err(), Error::StoreLocked);
        drop(first);
        assert!(Store::open(&path, &key()).is_ok());
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let path = temp_path("garbage");
        std::fs::write(&path, vec![0x42; 8192]).unwrap();
        assert_eq!(Store::open(&path, &key()).unwrap_err(), Error::StoreFailed);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let path = temp_path("newer");
        drop(Store::open(&path, &key()).unwrap());
        {
            let db = Connection::open(&path).unwrap();
            db.execute("UPDATE meta SET value = 99 WHERE name = 'schema_version'", []).unwrap();
        }
        assert_eq!(Store::open(&path, &key()).unwrap_err(), Error::UnsupportedVersion);
    }

    #[test]
    fn a_version_1_store_with_names_in_clear_is_refused_and_left_as_it_was() {
        let path = temp_path("v1");
        {
            let db = Connection::open(&path).unwrap();
            db.execute_batch(
                "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 CREATE TABLE records (name TEXT PRIMARY KEY, kind INTEGER NOT NULL, value BLOB NOT NULL);
                 INSERT INTO meta VALUES ('schema_version', 1);
                 INSERT INTO records VALUES ('identity', 2, x'0102');",
            )
            .unwrap();
        }
        assert_eq!(Store::open(&path, &key()).unwrap_err(), Error::UnsupportedVersion);
        let db = Connection::open(&path).unwrap();
        let name: String = db.query_row("SELECT name FROM records", [], |r| r.get(0)).unwrap();
        assert_eq!(name, "identity");
    }

    #[test]
    fn a_records_table_without_a_version_is_refused() {
        let path = temp_path("unversioned");
        {
            let db = Connection::open(&path).unwrap();
            db.execute_batch("CREATE TABLE records (x INTEGER);").unwrap();
        }
        assert_eq!(Store::open(&path, &key()).unwrap_err(), Error::StoreFailed);
    }

    #[test]
    fn rows_are_named_by_a_keyed_prf_and_the_name_is_sealed() {
        let path = temp_path("names");
        {
            let mut s = Store::open(&path, &key()).unwrap();
            s.commit(&[put("peer/abcd", b"v"), put("session/0123", b"w")]).unwrap();
        }
        let db = Connection::open(&path).unwrap();
        let mut st = db.prepare("SELECT id, name FROM records").unwrap();
        let rows: Vec<(Vec<u8>, Vec<u8>)> =
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        let keys = RowKeys::derive(&key());
        for (id, sealed) in &rows {
            assert_eq!(id.len(), ROW_ID_LEN);
            let id: [u8; ROW_ID_LEN] = id[..].try_into().unwrap();
            let name = keys.name.open(&id, sealed).unwrap();
            assert_eq!(keys.id.row_id(&name), id);
            assert!(!sealed.windows(4).any(|w| w == b"peer" || w == b"sess"));
        }
        drop(st);
        drop(db);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(4).any(|w| w == b"peer" || w == b"abcd" || w == b"0123"));
        // Another storage key gives other row ids, and does not open the names.
        assert_ne!(
            RowKeys::derive(&StorageKey::from_bytes([8; 32])).id.row_id("peer/abcd"),
            keys.id.row_id("peer/abcd")
        );
        let other = Store::open(&path, &StorageKey::from_bytes([8; 32])).unwrap();
        assert_eq!(other.load_all().unwrap_err(), Error::WrongStorageKey);
        drop(other);
        let mut s = Store::open(&path, &key()).unwrap();
        let mut all = s.load_all().unwrap();
        all.sort();
        assert_eq!(
            all,
            vec![("peer/abcd".into(), 1, b"v".to_vec()), ("session/0123".into(), 1, b"w".to_vec())]
        );
        // A delete finds its row by the name's id.
        s.commit(&[Change::Delete { name: "peer/abcd".into() }]).unwrap();
        assert_eq!(s.load_all().unwrap(), vec![("session/0123".into(), 1, b"w".to_vec())]);
    }

    /// Runs `sql` on the closed store at `path`, then opens it and reads every row.
    fn tampered(path: &Path, sql: &str) -> Result<Vec<(String, u8, Vec<u8>)>> {
        Connection::open(path).unwrap().execute_batch(sql).unwrap();
        Store::open(path, &key())?.load_all()
    }

    #[test]
    fn a_tampered_row_id_or_sealed_name_is_refused() {
        let path = temp_path("tamper");
        let fresh = || {
            let _ = std::fs::remove_file(&path);
            let mut s = Store::open(&path, &key()).unwrap();
            s.commit(&[put("a", b"1"), put("b", b"2")]).unwrap();
        };
        fresh();
        // Two rows' sealed names swapped: each is bound to its own row id.
        assert_eq!(
            tampered(
                &path,
                "UPDATE records SET name = (SELECT name FROM records r WHERE r.id != records.id);"
            )
            .unwrap_err(),
            Error::WrongStorageKey
        );
        fresh();
        // A row id changed: its name no longer opens.
        assert_eq!(
            tampered(
                &path,
                "UPDATE records SET id = zeroblob(32) WHERE rowid = (SELECT min(rowid) FROM records);"
            )
            .unwrap_err(),
            Error::WrongStorageKey
        );
        fresh();
        assert_eq!(
            tampered(&path, "UPDATE records SET id = x'00' WHERE rowid = 1;").unwrap_err(),
            Error::BadState
        );
        fresh();
        assert_eq!(tampered(&path, "UPDATE records SET name = x'00';").unwrap_err(), Error::WrongStorageKey);
        fresh();
        assert_eq!(tampered(&path, "UPDATE records SET name = zeroblob(400);").unwrap_err(), Error::BadState);
        fresh();
        // A sealed name that opens but is not the name of its row id (made with K_name alone).
        let keys = RowKeys::derive(&key());
        let id = keys.id.row_id("a");
        let forged = keys.name.seal(&id, "c").unwrap();
        let hex: String = forged.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            tampered(
                &path,
                &format!("UPDATE records SET name = x'{hex}' WHERE id = x'{}';", {
                    id.iter().map(|b| format!("{b:02x}")).collect::<String>()
                })
            )
            .unwrap_err(),
            Error::BadState
        );
        fresh();
        assert_eq!(
            tampered(&path, "UPDATE records SET id = 'text' WHERE rowid = 1;").unwrap_err(),
            Error::StoreFailed
        );
    }

    #[test]
    fn an_overlong_name_is_refused_and_nothing_is_written() {
        let path = temp_path("longname");
        let mut s = Store::open(&path, &key()).unwrap();
        let long = "x".repeat(MAX_RECORD_NAME_LEN + 1);
        assert_eq!(s.commit(&[put("a", b"1"), put(&long, b"2")]).unwrap_err(), Error::InvalidArgument);
        assert!(s.load_all().unwrap().is_empty());
        s.commit(&[put(&"x".repeat(MAX_RECORD_NAME_LEN), b"2")]).unwrap();
        assert_eq!(s.load_all().unwrap().len(), 1);
    }

    #[test]
    fn the_wal_is_empty_when_a_commit_returns() {
        let path = temp_path("wal");
        let mut s = Store::open(&path, &key()).unwrap();
        for i in 0..5u8 {
            s.commit(&[put("session/00", &[i; 3000]), put(&format!("outbox/{i}"), &[i; 100])]).unwrap();
            assert_eq!(std::fs::metadata(side(&path, "-wal")).map_or(0, |m| m.len()), 0, "commit {i}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let path = temp_path("modes");
        let mut s = Store::open(&path, &key()).unwrap();
        s.commit(&[put("a", &[1; 5000])]).unwrap();
        // Between a commit and its checkpoint the WAL exists: look at it mid-transaction.
        let tx = s.disk.as_mut().unwrap().conn.transaction().unwrap();
        tx.execute("INSERT INTO meta VALUES ('x', 1)", []).unwrap();
        tx.commit().unwrap();
        assert!(side(&path, "-wal").exists());
        for p in [path.clone(), side(&path, "-wal")] {
            assert_eq!(mode(&p), STORE_FILE_MODE, "{}", p.display());
        }
        assert!(!side(&path, "-shm").exists(), "exclusive locking: no shared memory file");
        drop(s);
        // A store made readable by others is narrowed when opened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(side(&path, "-wal"), b"").unwrap();
        std::fs::set_permissions(side(&path, "-wal"), std::fs::Permissions::from_mode(0o666)).unwrap();
        let s = Store::open(&path, &key()).unwrap();
        assert_eq!(mode(&path), STORE_FILE_MODE);
        assert_eq!(s.load_all().unwrap().len(), 1);
        if side(&path, "-wal").exists() {
            assert_eq!(mode(&side(&path, "-wal")), STORE_FILE_MODE);
        }
    }

    #[test]
    fn memory_store_keeps_nothing() {
        let mut s = Store::memory();
        s.commit(&[Change::Put { name: "a".into(), kind: 1, value: vec![1] }]).unwrap();
        assert!(s.load_all().unwrap().is_empty());
        assert!(!s.is_persistent());
    }
}
