//! What changed between two snapshots of a resource, line by line, as a page shows it: lines
//! removed and added with a few unchanged lines around each change, long unchanged stretches
//! folded to a count. Computed on the server, so only the diff travels.

use serde::{Deserialize, Serialize};

/// Unchanged lines shown on each side of a change.
const CONTEXT: usize = 3;
/// Past this many cells the changed middle is not aligned line by line: it is shown as removed,
/// then added (a 1 MiB bundle against another stays cheap).
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
    /// This many unchanged lines, not shown.
    Folded(usize),
}

/// The lines of `old` and `new` as a diff, unchanged stretches folded.
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut lines: Vec<DiffLine> = old[..prefix].iter().map(|l| same(l)).collect();
    lines.extend(middle(
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    ));
    lines.extend(old[old.len() - suffix..].iter().map(|l| same(l)));
    fold(lines)
}

fn same(line: &str) -> DiffLine {
    DiffLine::Same(line.to_owned())
}

/// The changed middle aligned by a longest common subsequence, or removed then added when it
/// is too large to align.
fn middle(old: &[&str], new: &[&str]) -> Vec<DiffLine> {
    let removed = || old.iter().map(|l| DiffLine::Removed((*l).to_owned()));
    let added = || new.iter().map(|l| DiffLine::Added((*l).to_owned()));
    if old.len().saturating_mul(new.len()) > MAX_CELLS || old.is_empty() || new.is_empty() {
        return removed().chain(added()).collect();
    }
    // longest[i][j]: the longest common subsequence of old[i..] and new[j..].
    let width = new.len() + 1;
    let mut longest = vec![0u32; (old.len() + 1) * width];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            longest[i * width + j] = if old[i] == new[j] {
                longest[(i + 1) * width + j + 1] + 1
            } else {
                longest[(i + 1) * width + j].max(longest[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j, mut lines) = (0, 0, Vec::new());
    while i < old.len() && j < new.len() {
        if old[i] == new[j] {
            lines.push(same(old[i]));
            (i, j) = (i + 1, j + 1);
        } else if longest[(i + 1) * width + j] >= longest[i * width + j + 1] {
            lines.push(DiffLine::Removed(old[i].to_owned()));
            i += 1;
        } else {
            lines.push(DiffLine::Added(new[j].to_owned()));
            j += 1;
        }
    }
    lines.extend(old[i..].iter().map(|l| DiffLine::Removed((*l).to_owned())));
    lines.extend(new[j..].iter().map(|l| DiffLine::Added((*l).to_owned())));
    lines
}

/// Keeps `CONTEXT` unchanged lines around each change and folds the rest.
fn fold(lines: Vec<DiffLine>) -> Vec<DiffLine> {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !matches!(l, DiffLine::Same(_)))
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= CONTEXT);
    let mut folded = Vec::new();
    let mut hidden = 0;
    for (i, line) in lines.into_iter().enumerate() {
        if matches!(line, DiffLine::Same(_)) && !near(i) {
            hidden += 1;
            continue;
        }
        if hidden > 0 {
            folded.push(DiffLine::Folded(hidden));
            hidden = 0;
        }
        folded.push(line);
    }
    if hidden > 0 {
        folded.push(DiffLine::Folded(hidden));
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;
    use DiffLine::{Added, Folded, Removed, Same};

    fn text(lines: &[&str]) -> String {
        lines.join("\n")
    }

    #[test]
    fn a_changed_line_is_removed_then_added_among_its_context() {
        let old: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        let mut new = old.clone();
        new[10] = "line ten".into();
        new.insert(15, "inserted".into());
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let new: Vec<&str> = new.iter().map(String::as_str).collect();
        let diff = line_diff(&text(&old), &text(&new));
        assert_eq!(diff[0], Folded(7));
        assert_eq!(
            &diff[1..4],
            [
                Same("line 7".into()),
                Same("line 8".into()),
                Same("line 9".into())
            ]
        );
        assert_eq!(
            &diff[4..6],
            [Removed("line 10".into()), Added("line ten".into())]
        );
        assert!(diff.contains(&Added("inserted".into())));
        assert_eq!(diff.last(), Some(&Folded(2)));
        let changes = diff
            .iter()
            .filter(|l| matches!(l, Removed(_) | Added(_)))
            .count();
        assert_eq!(changes, 3);
    }

    #[test]
    fn equal_texts_fold_whole_and_empty_sides_are_all_added_or_removed() {
        assert_eq!(line_diff("a\nb", "a\nb"), [Folded(2)]);
        assert_eq!(
            line_diff("", "a\nb"),
            [Added("a".into()), Added("b".into())]
        );
        assert_eq!(line_diff("a", ""), [Removed("a".into())]);
    }
}
