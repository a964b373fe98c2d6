//! One message line for what the member actions did: joined, assigned, removed, or why not.
//! The latest outcome replaces the one before, so no stale message stays on the page. A member
//! a run is upgrading is not removed without a second word: the message names the run and
//! offers to remove it anyway.

use super::Actions;
use crate::api::{AssignGroup, JoinMember, RemoveMember};
use crate::model::error::AppError;
use crate::ui::error::ErrorMessage;
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Done(String),
    Problem(AppError),
    /// Removing `member` was refused because a run is upgrading it.
    StillUpgrading {
        member: String,
        message: String,
    },
}

#[derive(Clone, Copy)]
pub struct Notices {
    current: RwSignal<Option<Notice>>,
    /// The member whose removal was asked last.
    removing: RwSignal<String>,
}

impl Notices {
    /// Follows the page's actions; each outcome becomes the notice.
    pub fn follow(
        join: ServerAction<JoinMember>,
        assign: ServerAction<AssignGroup>,
        remove: ServerAction<RemoveMember>,
    ) -> Self {
        let notices = Self {
            current: RwSignal::new(None),
            removing: RwSignal::new(String::new()),
        };
        Effect::new(move |_| {
            // A refused join is told at its form, where the typing is.
            if let Some(Ok(())) = join.value().get() {
                notices.set(Notice::Done("Member joined.".into()));
            }
        });
        Effect::new(move |_| match assign.value().get() {
            Some(Ok(n)) => notices.set(Notice::Done(format!("Updated {n} member(s)."))),
            Some(Err(error)) => notices.set(Notice::Problem(error)),
            None => {}
        });
        Effect::new(move |_| {
            let member = notices.removing.get_untracked();
            match remove.value().get() {
                Some(Ok(())) => notices.set(Notice::Done(format!("Removed member {member}."))),
                Some(Err(error)) if error.code == "MemberBeingUpgraded" => {
                    notices.set(Notice::StillUpgrading {
                        member,
                        message: error.message,
                    });
                }
                Some(Err(error)) => notices.set(Notice::Problem(error)),
                None => {}
            }
        });
        notices
    }

    fn set(&self, notice: Notice) {
        self.current.set(Some(notice));
    }

    /// Removes a member (asking the server not to, if a run is upgrading it).
    pub fn remove(&self, actions: Actions, member: String, force: bool) {
        self.removing.set(member.clone());
        actions.remove.dispatch(RemoveMember {
            fleet: actions.fleet.get_untracked(),
            name: member,
            force,
        });
    }

    pub fn view(&self, actions: Actions) -> Option<AnyView> {
        let notices = *self;
        Some(match self.current.get()? {
            Notice::Done(text) => view! { <p class="ok" role="status">{text}</p> }.into_any(),
            Notice::Problem(error) => view! { <ErrorMessage error/> }.into_any(),
            Notice::StillUpgrading { member, message } => {
                let again = member.clone();
                view! {
                    <div class="warning" role="alert">
                        <p><strong>{message}</strong></p>
                        <button type="button" class="secondary danger"
                            on:click=move |_| notices.remove(actions, again.clone(), true)>
                            {format!("Remove {member} anyway")}
                        </button>
                    </div>
                }
                .into_any()
            }
        })
    }
}
