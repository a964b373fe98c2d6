use crate::model::error::AppError;
use leptos::prelude::*;

/// A server error in words, next to what caused it.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    view! {
        <p class="error" role="alert">
            <strong>{error.message}</strong>
            <span class="error-code">" (" {error.code} ")"</span>
        </p>
    }
}

/// The error of an action's last result, if it failed.
pub fn action_error<T>(result: Option<Result<T, AppError>>) -> Option<impl IntoView> {
    result?.err().map(|error| view! { <ErrorMessage error/> })
}
