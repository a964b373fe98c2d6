//! The Users page (admins of every fleet): who may sign in and with which roles. Add a user
//! with a password and a first role, give or take roles, delete a user. Users who sign in
//! through an identity provider get their roles from it at each sign-in; the page says so.

use crate::api::{AddUser, DeleteUser, SetUserRoles, list_users};
use crate::model::access::{Grant, Role, UserView};
use crate::model::names::FleetName;
use crate::ui::access::{CsrfField, RoleFields};
use crate::ui::error::{ErrorMessage, action_error};
use leptos::prelude::*;
use leptos_meta::Title;

fn grant_text(grant: &Grant) -> String {
    match &grant.fleet {
        Some(fleet) => format!("{} on fleet {fleet}", grant.role),
        None => format!("{} on every fleet", grant.role),
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set_roles = ServerAction::<SetUserRoles>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || {
            (
                add.version().get(),
                set_roles.version().get(),
                delete.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        <section class="panel">
            <h2>"Add a user"</h2>
            <ActionForm action=add>
                <CsrfField/>
                <div class="form-row">
                    <label>"Name "<input name="name" required autocomplete="off" placeholder="lower-case, e.g. vera"/></label>
                    <label>"Password "<input name="password" type="password" autocomplete="new-password" minlength="12" required/></label>
                    <RoleFields/>
                    <button type="submit">"Add user"</button>
                </div>
            </ActionForm>
            {move || action_error(add.value().get())}
        </section>
        <section class="panel">
            {move || action_error(set_roles.value().get())}
            {move || action_error(delete.value().get())}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(error) => view! { <ErrorMessage error/> }.into_any(),
                        Ok(list) => view! {
                            <table data-testid="users">
                                <thead><tr><th>"User"</th><th>"Signs in with"</th><th>"Roles"</th><th>"Give a role"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|user| view! { <UserRow user set_roles delete/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UserRow(
    user: UserView,
    set_roles: ServerAction<SetUserRoles>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let name = user.name.clone();
    let how = match &user.identity_provider {
        Some(issuer) => format!("single sign-on ({issuer}): roles come from it at each sign-in"),
        None if user.password_set => "password".to_owned(),
        None => "nothing yet".to_owned(),
    };
    let roles = user.roles.clone();
    let chips = user
        .roles
        .iter()
        .map(|grant| {
            let (name, roles, grant) = (name.clone(), roles.clone(), grant.clone());
            let label = grant_text(&grant);
            let take = move |_| {
                let left: Vec<Grant> = roles.iter().filter(|g| **g != grant).cloned().collect();
                set_roles.dispatch(SetUserRoles {
                    name: name.clone(),
                    roles: left,
                });
            };
            view! {
                <span class="chip">
                    {label.clone()}
                    <button type="button" class="link" aria-label=format!("Take {label} from {}", user.name) on:click=take>"×"</button>
                </span>
            }
        })
        .collect_view();
    let (role, fleet) = (
        RwSignal::new("viewer".to_owned()),
        RwSignal::new(String::new()),
    );
    let problem = RwSignal::new(None::<String>);
    let give = {
        let (name, roles) = (name.clone(), roles.clone());
        move |_| {
            let Ok(role) = Role::parse(&role.get()) else {
                return;
            };
            let fleet = match fleet.get().trim() {
                "" => None,
                text => match FleetName::parse(text) {
                    Ok(fleet) => Some(fleet),
                    Err(why) => {
                        problem.set(Some(why));
                        return;
                    }
                },
            };
            problem.set(None);
            let mut all = roles.clone();
            let new = Grant { role, fleet };
            if !all.contains(&new) {
                all.push(new);
            }
            set_roles.dispatch(SetUserRoles {
                name: name.clone(),
                roles: all,
            });
        }
    };
    let remove = {
        let name = name.clone();
        move |_| {
            delete.dispatch(DeleteUser { name: name.clone() });
        }
    };
    view! {
        <tr data-testid=format!("user-{name}")>
            <td>{name.clone()}</td>
            <td>{how}</td>
            <td>{chips}</td>
            <td class="form-row">
                <select aria-label=format!("Role for {name}") on:change=move |ev| role.set(event_target_value(&ev))>
                    <option value="viewer">"viewer"</option>
                    <option value="operator">"operator"</option>
                    <option value="admin">"admin"</option>
                </select>
                <input class="narrow" aria-label=format!("Fleet for {name}") placeholder="every fleet"
                    on:input=move |ev| fleet.set(event_target_value(&ev))/>
                <button type="button" class="secondary" on:click=give>"Give"</button>
                {move || problem.get().map(|why| view! { <span class="error" role="alert">{why}</span> })}
            </td>
            <td>
                <button type="button" class="secondary danger" aria-label=format!("Delete {name}") on:click=remove>"Delete"</button>
            </td>
        </tr>
    }
}
