//! Address completion: contacts seen as senders or written to (kept by the `contact` table's
//! trigger and by the outbox), found by a prefix of the address or of the name.

use rusqlite::params;

use super::{Result, Store, StoreError};

/// A completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub address: String,
}

impl Contact {
    /// `Name <address>`, or the address alone.
    pub fn display(&self) -> String {
        if self.name.trim().is_empty() {
            self.address.clone()
        } else {
            format!("{} <{}>", self.name.trim(), self.address)
        }
    }
}

impl Store {
    /// Up to `limit` contacts whose address or name starts with `prefix` (case-insensitive),
    /// most used first. Both searches are index range scans.
    pub fn complete_address(&self, prefix: &str, limit: usize) -> Result<Vec<Contact>> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() {
            return Ok(Vec::new());
        }
        // The end of the prefix range: every string that starts with `prefix` sorts below it.
        let end = format!("{prefix}\u{10FFFF}");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT name, address FROM (
                         SELECT name, address, uses, last_used FROM contact
                         WHERE address >= ?1 AND address < ?2
                         UNION
                         SELECT name, address, uses, last_used FROM contact
                         WHERE name >= ?1 COLLATE NOCASE AND name < ?2 COLLATE NOCASE
                     ) ORDER BY uses DESC, last_used DESC LIMIT ?3",
                )
                .map_err(StoreError::sqlite("Prepare the address completion"))?;
            let rows = stmt
                .query_map(params![prefix, end, limit], |r| {
                    Ok(Contact {
                        name: r.get(0)?,
                        address: r.get(1)?,
                    })
                })
                .map_err(StoreError::sqlite("Complete an address"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a contact"))
        })
    }
}
