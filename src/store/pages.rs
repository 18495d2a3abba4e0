//! The message list's pages: a folder by keyset or offset in each sort order, the Unified Inbox
//! (several folders merged), a folder's conversations, and lookups by UID. Every query is one
//! index range, whatever the folder's size (`tests::view_queries_use_indexes` checks the plans).

use rusqlite::{OptionalExtension as _, params};

use super::message::{
    MESSAGE_COLUMNS, MessageRow, PageCursor, SortOrder, ThreadRow, message_from_row,
};
use super::{Result, Store, StoreError};

impl Store {
    /// One page of a folder in `order`, starting after `cursor` (None: from the top).
    pub fn folder_page(
        &self,
        folder_id: i64,
        order: SortOrder,
        cursor: Option<&PageCursor>,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let sql = folder_page_sql(order, cursor.is_some());
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(StoreError::sqlite("Prepare the folder page"))?;
            let rows = match cursor {
                None => stmt.query_map(params![folder_id, limit], message_from_row),
                Some(c) if order == SortOrder::DateDesc => {
                    stmt.query_map(params![folder_id, c.date, c.id, limit], message_from_row)
                }
                Some(c) => stmt.query_map(
                    params![folder_id, c.key, c.date, c.id, limit],
                    message_from_row,
                ),
            }
            .map_err(StoreError::sqlite("Read the folder page"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))
        })
    }

    /// A page at an arbitrary row offset (for a dragged scroll bar). Walks the index, not the table.
    pub fn folder_page_at(
        &self,
        folder_id: i64,
        order: SortOrder,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.read(|conn| {
            let sql = format!("{} OFFSET ?3", folder_page_sql(order, false));
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(StoreError::sqlite("Prepare the folder page"))?;
            let rows = stmt
                .query_map(params![folder_id, limit, offset], message_from_row)
                .map_err(StoreError::sqlite("Read the folder page"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))
        })
    }

    /// SQLite's plan for the list's page query in `order` (diagnostics and tests: it must be one
    /// index search, never a scan or a sort of the folder).
    pub fn explain_folder_page(&self, order: SortOrder) -> Result<String> {
        let sql = format!(
            "EXPLAIN QUERY PLAN {} OFFSET ?3",
            folder_page_sql(order, false)
        );
        self.read(|conn| {
            let mut stmt = conn
                .prepare(&sql)
                .map_err(StoreError::sqlite("Prepare the query plan"))?;
            let rows = stmt
                .query_map(params![1, 50, 0], |r| r.get::<_, String>(3))
                .map_err(StoreError::sqlite("Read the query plan"))?;
            let lines = rows
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read the query plan"))?;
            Ok(lines.join("\n"))
        })
    }

    /// Rows `offset..offset + limit` of several folders merged in `order` (the Unified Inbox).
    /// Each folder gives at most `offset + limit` rows from its own index, and only those are
    /// merged: the cost is that of paging one folder, never a sort of all their messages.
    pub fn merged_page_at(
        &self,
        folders: &[i64],
        order: SortOrder,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<MessageRow>> {
        if folders.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let each = i64::try_from(offset.saturating_add(limit)).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let sql = merged_page_sql(order, folders.len());
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(StoreError::sqlite("Prepare the merged page"))?;
            let mut values: Vec<i64> = folders.to_vec();
            values.extend([each, limit, offset]);
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values), message_from_row)
                .map_err(StoreError::sqlite("Read the merged page"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a message row"))
        })
    }

    /// The cached messages of a folder with these UIDs, newest first (UIDs not cached are
    /// simply missing from the answer).
    pub fn messages_by_uid(&self, folder_id: i64, uids: &[u32]) -> Result<Vec<MessageRow>> {
        let mut out = Vec::new();
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM message m WHERE m.folder_id = ?1 AND m.uid = ?2"
                ))
                .map_err(StoreError::sqlite("Prepare the lookup by UID"))?;
            for uid in uids {
                let row = stmt
                    .query_row(params![folder_id, uid], message_from_row)
                    .optional()
                    .map_err(StoreError::sqlite("Read a message by UID"))?;
                out.extend(row);
            }
            Ok(())
        })?;
        out.sort_by_key(|r| std::cmp::Reverse((r.date, r.id)));
        Ok(out)
    }

    /// Conversations `offset..offset + limit` of a folder, newest activity first: for each, its
    /// newest message in the folder and how many messages (and unread) it has there. One index
    /// range of `folder_thread`, whatever the folder's size.
    pub fn thread_page_at(
        &self,
        folder_id: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<ThreadRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    // The page is cut from the index alone; only its rows are joined.
                    "SELECT {MESSAGE_COLUMNS}, t.messages, t.unread
                     FROM (SELECT newest, last_date, messages, unread FROM folder_thread
                           WHERE folder_id = ?1
                           ORDER BY last_date DESC, newest DESC LIMIT ?2 OFFSET ?3) t
                     JOIN message m ON m.id = t.newest
                     ORDER BY t.last_date DESC, t.newest DESC"
                ))
                .map_err(StoreError::sqlite("Prepare the conversation page"))?;
            let rows = stmt
                .query_map(params![folder_id, limit, offset], |r| {
                    Ok(ThreadRow {
                        newest: message_from_row(r)?,
                        messages: r.get(21)?,
                        unread: r.get(22)?,
                    })
                })
                .map_err(StoreError::sqlite("Read the conversation page"))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(StoreError::sqlite("Read a conversation"))
        })
    }

    /// How many conversations a folder has.
    pub fn thread_count(&self, folder_id: i64) -> Result<i64> {
        self.read(|conn| {
            conn.query_row(
                "SELECT count(*) FROM folder_thread WHERE folder_id = ?1",
                [folder_id],
                |r| r.get(0),
            )
            .map_err(StoreError::sqlite("Count the conversations"))
        })
    }
}

/// The SQL of a folder page. Parameters: folder, [cursor...], limit.
pub(super) fn folder_page_sql(order: SortOrder, with_cursor: bool) -> String {
    let (after, order_by) = match order {
        SortOrder::DateDesc => ("(m.date, m.id) < (?2, ?3)", "m.date DESC, m.id DESC"),
        SortOrder::From => (
            "(m.sort_from, m.date, m.id) > (?2, ?3, ?4)",
            "m.sort_from, m.date, m.id",
        ),
        SortOrder::Subject => (
            "(m.sort_subject, m.date, m.id) > (?2, ?3, ?4)",
            "m.sort_subject, m.date, m.id",
        ),
    };
    let limit_param = match (order, with_cursor) {
        (_, false) => "?2",
        (SortOrder::DateDesc, true) => "?4",
        (_, true) => "?5",
    };
    let filter = if with_cursor {
        format!(" AND {after}")
    } else {
        String::new()
    };
    format!(
        "SELECT {MESSAGE_COLUMNS} FROM message m WHERE m.folder_id = ?1{filter} ORDER BY {order_by} LIMIT {limit_param}"
    )
}

/// The Unified Inbox query over `n` folders: one index-ordered, limited subquery per folder
/// (parameters ?1..?n are the folders, then the per-folder limit, the limit and the offset).
pub(super) fn merged_page_sql(order: SortOrder, n: usize) -> String {
    let (inner, outer) = match order {
        SortOrder::DateDesc => ("m.date DESC, m.id DESC", "date DESC, id DESC"),
        SortOrder::From => ("m.sort_from, m.date, m.id", "sort_key, date, id"),
        SortOrder::Subject => ("m.sort_subject, m.date, m.id", "sort_key, date, id"),
    };
    let key = match order {
        SortOrder::DateDesc => "NULL",
        SortOrder::From => "m.sort_from",
        SortOrder::Subject => "m.sort_subject",
    };
    let parts: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                "SELECT * FROM (SELECT {MESSAGE_COLUMNS}, {key} AS sort_key FROM message m
                 WHERE m.folder_id = ?{i} ORDER BY {inner} LIMIT ?{each})",
                each = n + 1
            )
        })
        .collect();
    format!(
        "{} ORDER BY {outer} LIMIT ?{} OFFSET ?{}",
        parts.join(" UNION ALL "),
        n + 2,
        n + 3
    )
}
