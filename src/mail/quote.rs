//! Quoted text in plain-text mail: a body split into runs of lines by quote depth ("> " is one
//! level, "> > " or ">> " two), so the reader can draw each level with a quote bar and fold long
//! quotes away.

/// Consecutive lines at one quote depth, with the markers removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// 0 for the writer's own text, 1 for "> ", 2 for "> > ", …
    pub depth: usize,
    pub text: String,
    pub lines: usize,
}

/// Deepest level told apart (deeper quotes are drawn at this depth).
const MAX_DEPTH: usize = 8;

/// Most blocks made: a body that alternates quoted and unquoted lines would otherwise become a
/// widget per line; what follows the last block is kept as one plain block.
pub const MAX_BLOCKS: usize = 200;

/// The quote depth of `line` and the line without its markers (and one space after them).
fn split_line(line: &str) -> (usize, &str) {
    let mut depth = 0;
    let mut rest = line;
    loop {
        // Spaces may stand between markers ("> > "), not before the first: " >" is a line that
        // format=flowed space-stuffed, or indented text.
        let trimmed = if depth == 0 {
            rest
        } else {
            rest.trim_start_matches(' ')
        };
        match trimmed.strip_prefix('>') {
            Some(after) => {
                depth += 1;
                rest = after;
            }
            None => break,
        }
    }
    if depth == 0 {
        return (0, line);
    }
    (depth.min(MAX_DEPTH), rest.strip_prefix(' ').unwrap_or(rest))
}

/// `text` as blocks of lines by quote depth, in order (at most `MAX_BLOCKS`; the rest of the
/// text, markers and all, is the last one).
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let continues = out.last().is_some_and(|b| b.depth == split_line(line).0);
        if out.len() == MAX_BLOCKS && !continues {
            let rest = text.get(start..).unwrap_or_default();
            out.push(Block {
                depth: 0,
                text: rest.trim_end_matches(['\n', '\r']).to_owned(),
                lines: rest.lines().count(),
            });
            return out;
        }
        let (depth, content) = split_line(line);
        match out.last_mut() {
            Some(block) if block.depth == depth => {
                block.text.push('\n');
                block.text.push_str(content);
                block.lines += 1;
            }
            _ => out.push(Block {
                depth,
                text: content.to_owned(),
                lines: 1,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::{Block, blocks};

    #[test]
    fn quotes_split_by_depth() {
        let text = "Yes, Friday works.\n\nOn Mon, Ada wrote:\n> Shall we meet?\n>> Earlier\n> > still earlier\n>\n> Bye\nThanks";
        let b = blocks(text);
        let depths: Vec<usize> = b.iter().map(|b| b.depth).collect();
        assert_eq!(depths, vec![0, 1, 2, 1, 0]);
        assert_eq!(
            b[0],
            Block {
                depth: 0,
                text: "Yes, Friday works.\n\nOn Mon, Ada wrote:".into(),
                lines: 3
            }
        );
        assert_eq!(b[2].text, "Earlier\nstill earlier");
        assert_eq!(b[3].text, "\nBye");
    }

    #[test]
    fn odd_input_is_kept() {
        assert!(blocks("").is_empty());
        // Indented text or a space-stuffed line with ">" is not a quote.
        assert_eq!(blocks("    > code")[0].depth, 0);
        assert_eq!(blocks(" >From here")[0].depth, 0);
        assert_eq!(blocks(">>>>>>>>>>>>>>>>>>>>")[0].depth, 8);
        assert_eq!(blocks("x\u{0}>y")[0].text, "x\u{0}>y");
        // Alternating lines make at most MAX_BLOCKS blocks, the rest kept whole.
        let text = "a\n> b\n".repeat(1_000);
        let b = blocks(&text);
        assert_eq!(b.len(), super::MAX_BLOCKS + 1);
        let kept: usize = b.iter().map(|b| b.lines).sum();
        assert_eq!(kept, 2_000);
        assert!(b[super::MAX_BLOCKS].text.starts_with("a\n> b"));
    }
}
