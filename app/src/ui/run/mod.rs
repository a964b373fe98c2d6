//! The run detail page: what a run is doing and has done (tree, timeline), live from the
//! server's event stream, with Start, Stop and Skip enabled exactly when the engine would accept
//! them ([`crate::engine::controls`], [`crate::engine::can_skip`]). It reads the run's outline
//! ([`crate::view::outline`]), whose size follows the run's groups, not its members: an opened
//! group of a large run fetches its members a page at a time.

mod ahead;
mod controls;
mod left_behind;
mod live;
mod timeline;
mod tree;

use super::badge::StateBadge;
use super::error::ErrorMessage;
use super::updates::{selection_label, upgrade_label};
use crate::api::{DeleteRun, SkipInRun, StartRun, StopRun, get_run_members, get_run_outline};
use crate::engine::SkipTarget;
use crate::model::error::AppError;
use crate::model::names::MemberName;
use crate::model::run::RunEvent;
use crate::model::target::UpgradeProgress;
use crate::ui::format::progress_words;
use crate::ui::time::When;
use crate::view::outline::{MemberPage, RunOutline, RunOutlineView};
use crate::view::patch::needs_read;
use ahead::Eta;
use controls::RunControls;
use left_behind::LeftBehindPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
pub use live::{PageClock, every};
use std::collections::{BTreeMap, BTreeSet};
use timeline::Timeline;
use tree::StageTree;

/// The page's server actions, and which skip target was asked for last (its error shows there).
#[derive(Clone, Copy)]
pub struct RunActions {
    pub fleet: Memo<String>,
    pub run: Memo<String>,
    pub start: ServerAction<StartRun>,
    pub stop: ServerAction<StopRun>,
    pub skip: ServerAction<SkipInRun>,
    pub delete: ServerAction<DeleteRun>,
    pub last_skip: RwSignal<Option<SkipTarget>>,
    /// Groups the person opened or closed against the default.
    pub toggled: RwSignal<BTreeSet<String>>,
    /// How far each upgrade in flight has come, polled while there are any.
    pub progress: RwSignal<BTreeMap<MemberName, UpgradeProgress>>,
    /// Counts approvals made on the page, so the run is fetched again at once.
    pub approved: RwSignal<u64>,
    /// The page of members each opened group of a large run shows, and where it starts.
    pub pages: RwSignal<BTreeMap<String, Result<MemberPage, AppError>>>,
    pub offsets: RwSignal<BTreeMap<String, usize>>,
    /// Counts member page requests, so an answer to an older one is not shown over a newer.
    asked: RwSignal<BTreeMap<String, u64>>,
}

impl RunActions {
    fn new(fleet: Memo<String>, run: Memo<String>) -> Self {
        Self {
            fleet,
            run,
            start: ServerAction::new(),
            stop: ServerAction::new(),
            skip: ServerAction::new(),
            delete: ServerAction::new(),
            last_skip: RwSignal::new(None),
            toggled: RwSignal::new(BTreeSet::new()),
            progress: RwSignal::new(BTreeMap::new()),
            approved: RwSignal::new(0),
            pages: RwSignal::new(BTreeMap::new()),
            offsets: RwSignal::new(BTreeMap::new()),
            asked: RwSignal::new(BTreeMap::new()),
        }
    }

    /// Fetches the page of `group`'s members from `offset` (the page it shows, when `None`).
    pub fn load_members(self, group: String, offset: Option<usize>) {
        let offset = offset.unwrap_or_else(|| {
            let offsets = self.offsets.read_untracked();
            offsets.get(&group).copied().unwrap_or(0)
        });
        self.offsets.update(|o| {
            o.insert(group.clone(), offset);
        });
        let mut ticket = 0;
        self.asked.update(|asked| {
            let n = asked.entry(group.clone()).or_default();
            *n += 1;
            ticket = *n;
        });
        let (fleet, run) = (self.fleet.get_untracked(), self.run.get_untracked());
        leptos::task::spawn_local(async move {
            let page = get_run_members(fleet, run, group.clone(), offset).await;
            if self.asked.read_untracked().get(&group) == Some(&ticket) {
                self.pages.update(|pages| {
                    pages.insert(group, page);
                });
            }
        });
    }

    /// Shows member events on the member pages the page holds.
    fn patch_pages(self, events: &[(i64, RunEvent)]) {
        if events.is_empty() {
            return;
        }
        self.pages.update(|pages| {
            for page in pages.values_mut().filter_map(|p| p.as_mut().ok()) {
                events.iter().for_each(|(_, event)| page.patch(event));
            }
        });
    }

    /// Fetches again the members the opened groups of a large run show (after the run changed).
    fn reload_open_groups(self) {
        let open: Vec<String> = self.toggled.get_untracked().into_iter().collect();
        for group in open {
            self.load_members(group, None);
        }
    }

    /// Changes when any action finished, so the run is fetched again at once.
    fn versions(&self) -> (usize, usize, usize, u64) {
        (
            self.start.version().get(),
            self.stop.version().get(),
            self.skip.version().get(),
            self.approved.get(),
        )
    }
}

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let fleet = Memo::new(move |_| params.read().get("fleet").unwrap_or_default());
    let name = Memo::new(move |_| params.read().get("run").unwrap_or_default());
    let actions = RunActions::new(fleet, name);
    let refresh = RwSignal::new(0_u64);
    let tick = RwSignal::new(0_u64);
    let run = Resource::new(
        move || (fleet.get(), name.get(), refresh.get(), actions.versions()),
        |(fleet, run, ..)| get_run_outline(fleet, run),
    );
    // Where the event stream starts: after the newest event the first view of this run reflected.
    // Later fetches don't move it, so the stream is opened once per run the page shows.
    let stream_from = Memo::new(move |before: Option<&Option<(String, String, i64)>>| {
        let (fleet, name) = (fleet.get(), name.get());
        if let Some(Some(known)) = before
            && (&known.0, &known.1) == (&fleet, &name)
        {
            return Some(known.clone());
        }
        let view = run.get()?.ok()?;
        (view.outline.summary.name == name).then_some((fleet, name, view.events_through))
    });
    let heard = RwSignal::new(Vec::<(i64, RunEvent)>::new());
    let reads = Reads {
        refresh,
        last: StoredValue::new(None),
        unread: StoredValue::new(false),
    };
    // Each read replaces the events it reflects; what an opened group of a large run shows is
    // fetched again with it.
    Effect::new(move |_| {
        if let Some(Ok(view)) = run.get() {
            reads.done(&view);
            // Only when the read covers something heard: an update re-renders the run's whole
            // view, and right after hydration it would re-render what the server just sent.
            let covered =
                |h: &Vec<(i64, RunEvent)>| h.iter().any(|(id, _)| *id <= view.events_through);
            if heard.with_untracked(covered) {
                heard.update(|h| h.retain(|(id, _)| *id > view.events_through));
            }
            if !view.outline.members_listed {
                actions.reload_open_groups();
            }
        }
    });
    Effect::new(move |_| {
        let Some((fleet, name, after)) = stream_from.get() else {
            return;
        };
        let url = format!("/api/v1/fleets/{fleet}/updateRuns/{name}/events?after={after}");
        live::follow(url, tick, move |batch| {
            reads.heard(&batch);
            actions.patch_pages(&batch.events);
            if !batch.events.is_empty() {
                heard.update(|h| h.extend(batch.events));
            }
        });
    });
    follow_progress(run, actions);
    view! {
        <Title text=move || format!("Run {}", name.get())/>
        <p class="crumbs">
            <A href=move || format!("/fleets/{}", fleet.get())>{move || format!("Fleet {}", fleet.get())}</A>
            " › "
            <A href=move || format!("/fleets/{}/updates", fleet.get())>"Multi-cluster update"</A>
        </p>
        <Transition fallback=|| view! { <p class="loading">"Loading the run…"</p> }>
            {move || Suspend::new(async move {
                match run.await {
                    Err(error) => view! { <h1 class="page-title">"Update run"</h1><ErrorMessage error/> }.into_any(),
                    Ok(view) => {
                        let clock = PageClock::new(view.time, tick);
                        let (read, through) = (view.outline, view.events_through);
                        // The outline read, with what was heard since patched in. The page's
                        // parts each watch their own slice of it, so a patch redraws the groups
                        // it changed, not the run's 500 groups.
                        let outline = Memo::new(move |_| {
                            let mut run = read.clone();
                            for (_, event) in heard.read().iter().filter(|(id, _)| *id > through) {
                                run.patch(event);
                            }
                            run
                        });
                        view! { <RunDetail outline clock actions/> }.into_any()
                    }
                }
            })}
        </Transition>
        <crate::ui::audit::RunAudit fleet run=name changes=Signal::derive(move || {
            let (a, b, c, d) = actions.versions();
            (a + b + c) as u64 + d
        })/>
    }
}

/// When the page reads the run again: at once after an event only a read can show (see
/// [`crate::view::patch::needs_read`]), and, while member events are patched in, again after a
/// while (for the timeline's and the forecast's shapes and the skip answers, which patches do
/// not keep): soon for a small run, whose read is cheap, seldom for a large one.
#[derive(Clone, Copy)]
struct Reads {
    refresh: RwSignal<u64>,
    /// When the last read arrived (real ms) and whether its run lists its members.
    last: StoredValue<Option<(f64, bool)>>,
    /// Whether events were patched in since.
    unread: StoredValue<bool>,
}

impl Reads {
    const SMALL_RUN_AFTER_MS: f64 = 2_000.0;
    const LARGE_RUN_AFTER_MS: f64 = 15_000.0;

    fn done(self, view: &RunOutlineView) {
        self.last
            .set_value(Some((live::real_now_ms(), view.outline.members_listed)));
        self.unread.set_value(false);
    }

    fn heard(self, batch: &live::Heard) {
        let now_needed = batch.unreadable || batch.events.iter().any(|(_, e)| needs_read(e));
        if !batch.events.is_empty() {
            self.unread.set_value(true);
        }
        let stale = self.unread.get_value()
            && self.last.get_value().is_some_and(|(at, small)| {
                let after = match small {
                    true => Self::SMALL_RUN_AFTER_MS,
                    false => Self::LARGE_RUN_AFTER_MS,
                };
                live::real_now_ms() - at > after
            });
        if now_needed || stale {
            self.unread.set_value(false);
            self.refresh.update(|n| *n += 1);
        }
    }
}

/// While upgrades are in flight, asks how far they have come: when the run is read again and
/// every few seconds between its events (progress makes no event of its own).
fn follow_progress(run: Resource<Result<RunOutlineView, AppError>>, actions: RunActions) {
    let in_flight = Memo::new(move |_| {
        run.get()
            .and_then(Result::ok)
            .is_some_and(|view| view.outline.in_flight > 0)
    });
    let fetch = move || {
        if !in_flight.get_untracked() {
            return;
        }
        let (fleet, name) = (actions.fleet.get_untracked(), actions.run.get_untracked());
        leptos::task::spawn_local(async move {
            if let Ok(progress) = crate::api::get_run_progress(fleet, name).await {
                actions.progress.set(progress.members);
            }
        });
    };
    Effect::new(move |_| {
        run.track();
        fetch();
    });
    live::every(std::time::Duration::from_secs(3), fetch);
}

#[component]
fn RunDetail(outline: Memo<RunOutline>, clock: PageClock, actions: RunActions) -> impl IntoView {
    let gantt = Memo::new(move |_| outline.with(|run| (run.timeline.clone(), run.ahead.eta)));
    // The forecast's list is long and changes only with a read: it has a memo of its own.
    let ahead = Memo::new(move |_| outline.with(|run| (run.state.clone(), run.ahead.clone())));
    // Whom the run left behind is asked once it has ended (and again if it ends again).
    let finished = Memo::new(move |_| outline.with(|run| crate::engine::has_ended(&run.state)));
    view! {
        {move || run_title(outline.get(), actions)}
        {move || {
            let (state, forecast) = ahead.get();
            view! { <Eta state forecast clock/> }
        }}
        {move || run_status(outline.get(), actions)}
        <section class="panel">
            <h2>"Timeline"</h2>
            {move || {
                let (gantt, eta) = gantt.get();
                view! { <Timeline gantt eta clock/> }
            }}
        </section>
        <section class="panel">
            <h2>"Stages"</h2>
            <StageTree outline clock actions/>
        </section>
        {move || finished.get().then(|| view! { <LeftBehindPanel fleet=actions.fleet run=actions.run/> })}
    }
}

/// Where the run came from (a stored strategy, an auto-upgrade profile): `id` is the resource's
/// path, which people know by its last segment, linked to the tab that lists it.
fn origin(words: &'static str, id: String, href: String) -> impl IntoView {
    let name = id.rsplit('/').next().unwrap_or(&id).to_owned();
    view! { <span>{words} <a href=href title=id>{name}</a></span> }
}

/// Which pass of a chain the run is, where it takes its members, and the runs around it.
fn pass_view(
    fleet: &str,
    summary: &crate::model::status::RunSummary,
    hop: crate::model::run::RunHop,
) -> impl IntoView {
    use crate::model::run::RunHop;
    let major = summary
        .update
        .upgrade
        .kubernetes_version
        .map_or(1, |v| v.major);
    let link = |number: u32| {
        let name = RunHop::run_name(&hop.first_run, number);
        view! { <a href=format!("/fleets/{fleet}/updates/runs/{name}")>{name.clone()}</a> }
    };
    let to = match hop.more_to_go() {
        true => format!(
            ", to the newest {major}.{} patch in each member's region",
            hop.minor
        ),
        false => ", to the target".to_owned(),
    };
    let previous = (hop.number > 1).then(|| view! { " · after " {link(hop.number - 1)} });
    let next = hop.more_to_go().then(|| {
        view! { " · then " {link(hop.number + 1)} ", started when this run completes" }
    });
    view! {
        <p class="summary small" data-testid="pass">
            {format!("Pass {} of {} of the whole strategy{to}", hop.number, hop.of)}
            {previous}
            {next}
        </p>
    }
}

/// What the run changes: the upgrade and its images, or the placement it rolls out.
fn what_it_does(
    fleet: &str,
    summary: &crate::model::status::RunSummary,
    target: String,
) -> impl IntoView + use<> {
    match &summary.placement {
        Some(rollout) => {
            let href = format!("/fleets/{fleet}/placements");
            let name = rollout.placement_name.to_string();
            let revision = crate::engine::revision_of(&rollout.snapshot);
            view! {
                "Rolls out placement " <a href=href>{name}</a> " at " <strong>{revision}</strong>
            }
            .into_any()
        }
        None => view! {
            {upgrade_label(summary.update.upgrade.kind)} " to " <strong>{target}</strong>
            " · node images: " {selection_label(summary.update.node_image_selection.kind)}
        }
        .into_any(),
    }
}

/// The run's title, what it upgrades to, and when it ran.
fn run_title(run: RunOutline, actions: RunActions) -> impl IntoView {
    let summary = run.summary.clone();
    let target = summary.update.upgrade.kubernetes_version.map_or_else(
        || "latest node images".to_owned(),
        |v| format!("Kubernetes {v}"),
    );
    let fleet = actions.fleet.get_untracked();
    let strategy = summary.update_strategy_id.clone().map(|id| {
        origin(
            " · from strategy ",
            id,
            format!("/fleets/{fleet}/updates?tab=strategies"),
        )
    });
    let profile = summary.auto_upgrade_profile_id.clone().map(|id| {
        let href = format!("/fleets/{fleet}/updates?tab=profiles");
        origin(" · generated by auto-upgrade profile ", id, href)
    });
    let caught_up = summary.catch_up_of.clone().map(|id| {
        let name = id.rsplit('/').next().unwrap_or(&id).to_owned();
        let href = format!("/fleets/{fleet}/updates/runs/{name}");
        origin(" · catch-up of ", id, href)
    });
    let pass = summary
        .hop
        .clone()
        .map(|hop| pass_view(&fleet, &summary, hop));
    let status = summary.status.clone();
    view! {
        <h1 class="page-title">"Update run " <span class="fleet-name">{summary.name.clone()}</span>
            " " <StateBadge state=status.state/></h1>
        <p class="summary">
            {what_it_does(&fleet, &summary, target)}
            {strategy}
            {profile}
            {caught_up}
        </p>
        {pass}
        <p class="summary muted small">
            {status.start_time.map(|t| view! { "Started " <When t/> })}
            {status.completed_time.map(|t| view! { " · ended " <When t/> })}
        </p>
    }
}

/// The run's error, its Consistent images, its progress and its controls.
fn run_status(run: RunOutline, actions: RunActions) -> impl IntoView {
    let summary = run.summary.clone();
    let status = summary.status.clone();
    let images = run.selected_images.clone();
    view! {
        {status.error.map(|e| view! { <p class="error" role="status"><strong>{e.message}</strong></p> })}
        {(!images.is_empty()).then(|| view! {
            <p class="small">"Consistent node images: "
                {images.iter().map(|v| view! { <code>{v.to_string()}</code>" " }).collect_view()}</p>
        })}
        <section class="panel">
            <div class="run-progress">
                <progress max=summary.total.max(1) value=summary.done aria-label="members done"></progress>
                <span data-testid="progress">{progress_words(&summary)}</span>
            </div>
            <RunControls run=run.clone() actions/>
        </section>
    }
}
