//! Persistence of agent state in an embedded SQLite database (bundled SQLite, WAL mode), or in
//! memory.
//!
//! The store holds opaque records by name (`identity`, `session/<hex>`, ...); the agent encrypts
//! each with the caller's storage key and binds it to its name (see [`crate::state`]), so the
//! database never sees a secret. Every change of one agent call is written in one transaction,
//! committed before the call returns its output. The database is opened in exclusive locking
//! mode: a second process (or handle) opening it gets `StoreLocked`, never a shared file.
//!
//! Schema version 1:
//! ```sql
//! CREATE TABLE meta    (name TEXT PRIMARY KEY, value INTEGER NOT NULL);  -- 'schema_version'
//! CREATE TABLE records (name TEXT PRIMARY KEY, kind INTEGER NOT NULL, value BLOB NOT NULL);
//! ```

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::error::{Error, Result};

/// The schema version this build writes. Older stores are migrated on open; newer ones refused
/// (`UnsupportedVersion`).
pub const SCHEMA_VERSION: i64 = 1;

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

/// Where an agent's records live.
pub struct Store {
    db: Option<Connection>,
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
        f.write_str(if self.db.is_some() { "Store(sqlite)" } else { "Store(memory)" })
    }
}

fn map_err(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::StoreLocked,
        _ => Error::StoreFailed,
    }
}

impl Store {
    /// A store that keeps nothing: state lives and dies with the agent.
    pub fn memory() -> Store {
        Store {
            db: None,
            uncertain: false,
            #[cfg(test)]
            fail_next_commit: None,
        }
    }

    /// Whether records are persisted.
    pub fn is_persistent(&self) -> bool {
        self.db.is_some()
    }

    /// Opens (creating if needed) the database at `path`, takes its exclusive lock and migrates
    /// its schema. Errors: `StoreLocked` (in use), `StoreFailed` (not a database, unreadable),
    /// `UnsupportedVersion` (written by a newer build).
    pub fn open(path: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let db = Connection::open_with_flags(path, flags).map_err(map_err)?;
        db.busy_timeout(Duration::ZERO).map_err(map_err)?;
        // Exclusive locking before WAL: the lock is held from the first transaction until close,
        // and WAL then needs no shared memory. FULL sync: a committed transaction survives power loss.
        db.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(map_err)?;
        let mode: String = db.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(map_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::StoreFailed);
        }
        db.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
        let mut store = Store {
            db: Some(db),
            uncertain: false,
            #[cfg(test)]
            fail_next_commit: None,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let db = self.db.as_mut().ok_or(Error::Internal)?;
        // An exclusive transaction takes (and, in exclusive locking mode, keeps) the lock now.
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).map_err(map_err)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS records (name TEXT PRIMARY KEY, kind INTEGER NOT NULL, value BLOB NOT NULL);",
        )
        .map_err(map_err)?;
        let version: Option<i64> = tx
            .query_row("SELECT value FROM meta WHERE name = 'schema_version'", [], |r| r.get(0))
            .map(Some)
            .or_else(|e| if matches!(e, rusqlite::Error::QueryReturnedNoRows) { Ok(None) } else { Err(e) })
            .map_err(map_err)?;
        match version {
            None => {
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION],
                )
                .map_err(map_err)?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            // Migrations from older versions go here, one step per version, inside this transaction.
            Some(v) if v > SCHEMA_VERSION => return Err(Error::UnsupportedVersion),
            Some(_) => return Err(Error::StoreFailed),
        }
        tx.commit().map_err(map_err)
    }

    /// Every record: (name, kind, sealed value).
    pub fn load_all(&self) -> Result<Vec<(String, u8, Vec<u8>)>> {
        let Some(db) = &self.db else { return Ok(Vec::new()) };
        let mut stmt = db.prepare("SELECT name, kind, value FROM records").map_err(map_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
            .map_err(map_err)?;
        let mut out = Vec::new();
        for row in rows {
            let (name, kind, value) = row.map_err(map_err)?;
            let kind = u8::try_from(kind).map_err(|_| Error::StoreFailed)?;
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
        let Some(db) = self.db.as_mut() else { return Ok(()) };
        if changes.is_empty() {
            return Ok(());
        }
        let tx = db.transaction().map_err(map_err)?;
        {
            let mut put = tx
                .prepare_cached("INSERT OR REPLACE INTO records (name, kind, value) VALUES (?1, ?2, ?3)")
                .map_err(map_err)?;
            let mut del = tx.prepare_cached("DELETE FROM records WHERE name = ?1").map_err(map_err)?;
            for c in changes {
                match c {
                    Change::Put { name, kind, value } => put.execute(params![name, *kind as i64, value]),
                    Change::Delete { name } => del.execute(params![name]),
                }
                .map_err(map_err)?;
            }
        }
        tx.commit().map_err(|e| {
            self.uncertain = true;
            map_err(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn records_survive_reopen_and_changes_are_atomic() {
        let path = temp_path("reopen");
        {
            let mut s = Store::open(&path).unwrap();
            s.commit(&[
                Change::Put { name: "a".into(), kind: 1, value: vec![1, 2] },
                Change::Put { name: "b".into(), kind: 2, value: vec![3] },
            ])
            .unwrap();
            s.commit(&[Change::Delete { name: "b".into() }]).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.load_all().unwrap(), vec![("a".to_string(), 1, vec![1, 2])]);
    }

    #[test]
    fn a_second_open_is_refused_while_the_first_is_open() {
        let path = temp_path("lock");
        let first = Store::open(&path).unwrap();
        assert_eq!(Store::open(&path).unwrap_err(), Error::StoreLocked);
        drop(first);
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let path = temp_path("garbage");
        std::fs::write(&path, vec![0x42; 8192]).unwrap();
        assert_eq!(Store::open(&path).unwrap_err(), Error::StoreFailed);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let path = temp_path("newer");
        drop(Store::open(&path).unwrap());
        {
            let db = Connection::open(&path).unwrap();
            db.execute("UPDATE meta SET value = 99 WHERE name = 'schema_version'", []).unwrap();
        }
        assert_eq!(Store::open(&path).unwrap_err(), Error::UnsupportedVersion);
    }

    #[test]
    fn memory_store_keeps_nothing() {
        let mut s = Store::memory();
        s.commit(&[Change::Put { name: "a".into(), kind: 1, value: vec![1] }]).unwrap();
        assert!(s.load_all().unwrap().is_empty());
        assert!(!s.is_persistent());
    }
}
