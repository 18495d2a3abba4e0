//! The preview lines the header sync's `PREVIEW (LAZY)` left out (RFC 8970: NIL means the server
//! had none ready): asked for again without LAZY after the folder's headers, newest first, a
//! bounded number per pass so a large folder never holds up the pass (the next pass goes on).

use imap_codec::imap_types::fetch::MessageDataItemName;

use super::sync::{BATCH, FolderSync};
use crate::engine::{EngineError, Event, Kind};
use crate::protocol::imap::PreviewItem;

/// Previews asked for per folder and pass, at most.
pub const PREVIEW_FILL_PER_PASS: usize = 2_000;

impl FolderSync<'_> {
    /// Fills in missing previews (only where the server offers PREVIEW). Each batch is one
    /// transaction, and every message asked is marked settled, so an empty preview (a message
    /// with no text) is not asked again. A refusal ends the filling, not the pass, and settles
    /// what is pending as empty (a body fetched later still gives its preview), so the folder
    /// is not selected again only for them.
    pub(super) async fn fill_previews(&mut self) -> Result<(), EngineError> {
        if self.preview_refused {
            self.store.settle_previews(self.folder.id)?;
            return Ok(());
        }
        if !self.preview {
            return Ok(());
        }
        let folder = self.folder;
        let mut left = PREVIEW_FILL_PER_PASS;
        while left > 0 {
            let wanted = self.store.previews_pending(folder.id, left.min(BATCH))?;
            if wanted.is_empty() {
                break;
            }
            left = left.saturating_sub(wanted.len());
            let mut uids: Vec<u32> = wanted
                .iter()
                .filter_map(|(_, uid)| u32::try_from(*uid).ok())
                .collect();
            uids.sort_unstable();
            // Two items, so the list is parenthesised and PREVIEW can join it.
            let items = vec![MessageDataItemName::Uid, MessageDataItemName::Rfc822Size];
            let fetched = match self
                .fetch_items_with(&uids, items, Some(PreviewItem::Computed))
                .await
            {
                Ok(fetched) => fetched,
                Err(e) if e.kind() == Kind::Refused => {
                    // This batch is settled empty (bodies still fill it) and PREVIEW is not
                    // asked again in this session; the rest waits for a later one.
                    self.report.set_aside(format!(
                        "{}: the server refused to compute previews ({e}); they come from the bodies instead",
                        folder.path
                    ));
                    let settled: Vec<(i64, String)> =
                        wanted.iter().map(|(id, _)| (*id, String::new())).collect();
                    self.store.set_previews(&settled)?;
                    self.session.refuse_capability("PREVIEW");
                    self.preview = false;
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let mut by_uid: std::collections::HashMap<i64, String> = fetched
                .into_iter()
                .filter_map(|f| Some((i64::from(f.uid?), f.preview.unwrap_or_default())))
                .collect();
            let previews: Vec<(i64, String)> = wanted
                .iter()
                .map(|(id, uid)| (*id, by_uid.remove(uid).unwrap_or_default()))
                .collect();
            self.store.set_previews(&previews)?;
            (self.on_event)(Event::FolderChanged {
                account: folder.account_id,
                folder: folder.id,
            });
        }
        Ok(())
    }
}
