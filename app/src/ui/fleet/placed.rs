//! The fleet page's member × placement matrix: a page of members at a time (the server pages
//! it), each with its state under every placement, the snapshots it holds or gets, and why (on
//! hover). Shown once the fleet has a placement; read again every few seconds, so rollouts are
//! seen as they go.

use crate::api::placement_matrix;
use crate::ui::format::count;
use crate::ui::placements::state_class;
use crate::view::matrix::PlacementMatrix;
use leptos::prelude::*;

/// Members per page.
const ROWS: usize = 50;

/// How often the matrix is read again while the page is open.
const REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn PlacementMatrixPanel(fleet: Signal<String>) -> impl IntoView {
    let offset = RwSignal::new(0_usize);
    let tick = RwSignal::new(0_u64);
    crate::ui::run::every(REFRESH, move || tick.update(|t| *t += 1));
    let matrix = Resource::new(
        move || (fleet.get(), offset.get(), tick.get()),
        |(fleet, offset, _)| placement_matrix(fleet, offset, ROWS),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let matrix = matrix.await.ok().filter(|m| !m.placements.is_empty())?;
                Some(view! { <MatrixTable matrix fleet=fleet.get_untracked() offset/> })
            })}
        </Transition>
    }
}

#[component]
fn MatrixTable(matrix: PlacementMatrix, fleet: String, offset: RwSignal<usize>) -> impl IntoView {
    let href = format!("/fleets/{fleet}/placements");
    let heads = matrix.placements.iter().map(|name| {
        view! { <th scope="col"><a href=href.clone()>{name.clone()}</a></th> }
    });
    let rows = matrix.rows.into_iter().map(|row| {
        let cells = row.cells.into_iter().map(|cell| {
            view! {
                <td title=cell.reason data-state=cell.state.as_str()>
                    <span class=state_class(cell.state)>{cell.state.as_str()}</span>
                    " " <span class="muted small">{cell.snapshot}</span>
                    {cell.drifted.then(|| view! { " " <span class="state state-failed small" data-drifted="true">"drifted"</span> })}
                </td>
            }
        });
        let name = row.member.clone();
        view! { <tr data-member=row.member><th scope="row">{name}</th>{cells.collect_view()}</tr> }
    });
    let (from, total) = (matrix.offset, matrix.total);
    let to = (from + ROWS).min(total);
    let shown = format!(
        "Members {}–{to} of {}",
        from + 1,
        count(total, "member", "members")
    );
    view! {
        <section class="panel" aria-label="Placements by member">
            <h2>"Placements by member"</h2>
            <div class="table-scroll">
                <table class="placement-matrix">
                    <thead><tr><th scope="col">"Member"</th>{heads.collect_view()}</tr></thead>
                    <tbody>{rows.collect_view()}</tbody>
                </table>
            </div>
            <p class="pager small">
                <button type="button" class="link" disabled=from == 0
                    on:click=move |_| offset.set(from.saturating_sub(ROWS))>"Previous"</button>
                " " {shown} " "
                <button type="button" class="link" disabled=to >= total
                    on:click=move |_| offset.set(to)>"Next"</button>
            </p>
        </section>
    }
}
