//! The fleet's member × placement matrix, a page at a time: for each member (by name), its
//! state with each placement, the snapshots it holds or gets, and why. Built from the
//! placements' statuses on the server, so the browser gets one page of rows, never the fleet.

use crate::engine::{MemberPlacementState, PlacementStatus, revision_of};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The most rows a page may ask for.
pub const MAX_ROWS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCell {
    pub state: MemberPlacementState,
    /// `web@3` (with the overrides that change its objects: `web@3 + eu@2`); empty when the
    /// placement does not pick the member.
    pub snapshot: String,
    pub reason: String,
    /// The member's cluster reports objects changed by hand since they were applied.
    #[serde(default)]
    pub drifted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    pub member: String,
    /// One per placement, in the order of [`PlacementMatrix::placements`].
    pub cells: Vec<MatrixCell>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlacementMatrix {
    pub placements: Vec<String>,
    pub rows: Vec<MatrixRow>,
    /// Members in the fleet; `rows` are those from `offset` on, by name.
    pub total: usize,
    pub offset: usize,
}

/// The page of `limit` members from `offset` (by name) of the matrix of `placements`.
pub fn matrix_page(
    placements: &[(String, &PlacementStatus)],
    offset: usize,
    limit: usize,
) -> PlacementMatrix {
    let Some((_, first)) = placements.first() else {
        return PlacementMatrix::default();
    };
    let mut members: Vec<&str> = first.members.iter().map(|m| m.name.as_str()).collect();
    members.sort_unstable();
    let total = members.len();
    let offset = offset.min(total);
    let page = &members[offset..(offset + limit.min(MAX_ROWS)).min(total)];
    let wanted: std::collections::HashSet<&str> = page.iter().copied().collect();
    let by_name: Vec<HashMap<&str, _>> = placements
        .iter()
        .map(|(_, status)| {
            status
                .members
                .iter()
                .filter(|m| wanted.contains(m.name.as_str()))
                .map(|m| (m.name.as_str(), m))
                .collect()
        })
        .collect();
    let rows = page
        .iter()
        .map(|member| MatrixRow {
            member: (*member).to_owned(),
            cells: by_name
                .iter()
                .map(|statuses| match statuses.get(member) {
                    Some(status) => {
                        let mut snapshot = revision_of(&status.snapshot);
                        if !status.overrides.is_empty() {
                            snapshot = format!("{snapshot} + {}", status.overrides.join(", "));
                        }
                        MatrixCell {
                            state: status.state,
                            snapshot,
                            reason: status.reason.clone(),
                            drifted: !status.drifted.is_empty(),
                        }
                    }
                    None => MatrixCell {
                        state: MemberPlacementState::NotSelected,
                        snapshot: String::new(),
                        reason: "not a member when the placement was read".into(),
                        drifted: false,
                    },
                })
                .collect(),
        })
        .collect();
    PlacementMatrix {
        placements: placements.iter().map(|(name, _)| name.clone()).collect(),
        rows,
        total,
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::MemberPlacementStatus;

    fn status(members: &[(&str, MemberPlacementState, i64)]) -> PlacementStatus {
        PlacementStatus {
            members: members
                .iter()
                .map(|(name, state, index)| MemberPlacementStatus {
                    name: (*name).to_owned(),
                    state: *state,
                    snapshot: match state {
                        MemberPlacementState::NotSelected => Default::default(),
                        _ => [("web".to_owned(), *index)].into(),
                    },
                    overrides: Vec::new(),
                    reason: format!("{name} says why"),
                    drifted: Vec::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_page_of_members_by_name_with_a_cell_per_placement() {
        use MemberPlacementState::*;
        let web = status(&[
            ("c", Available, 2),
            ("a", Scheduled, 2),
            ("b", NotSelected, 0),
        ]);
        let db = status(&[("a", Failed, 1), ("b", Applied, 1), ("c", NotSelected, 0)]);
        let placements = [("web".to_owned(), &web), ("db".to_owned(), &db)];
        let page = matrix_page(&placements, 1, 1);
        assert_eq!((page.total, page.offset), (3, 1));
        assert_eq!(page.placements, ["web", "db"]);
        assert_eq!(page.rows.len(), 1);
        let row = &page.rows[0];
        assert_eq!(row.member, "b");
        assert_eq!(row.cells[0].state, NotSelected);
        assert_eq!(row.cells[0].snapshot, "");
        assert_eq!(
            (row.cells[1].state, row.cells[1].snapshot.as_str()),
            (Applied, "web@1")
        );
        assert_eq!(row.cells[1].reason, "b says why");

        let whole = matrix_page(&placements, 0, 10);
        let names: Vec<&str> = whole.rows.iter().map(|r| r.member.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(matrix_page(&placements, 7, 10).rows, []);
        assert_eq!(matrix_page(&[], 0, 10), PlacementMatrix::default());
    }
}
