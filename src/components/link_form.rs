//! The operator's form for a new upload link: label, folder, expiry, limits (sizes as
//! people write them, `20GiB`), types, password, the uploader's name; the server checks
//! it all again.

use leptos::prelude::*;

use super::text;
use crate::api::{self, CreatedLink, NewLinkRequest};
use crate::core::limits::parse_size;
use crate::core::link::Limits;
use crate::core::policy::normalise_types;

/// The form's fields, as typed.
#[derive(Clone, Default)]
struct Fields {
    label: RwSignal<String>,
    message: RwSignal<String>,
    folder: RwSignal<String>,
    expires: RwSignal<String>,
    max_bytes: RwSignal<String>,
    max_files: RwSignal<String>,
    max_file: RwSignal<String>,
    types: RwSignal<String>,
    password: RwSignal<String>,
    ask_name: RwSignal<bool>,
}

impl Fields {
    /// The request these fields make, or what is wrong with them.
    fn request(&self) -> Result<NewLinkRequest, String> {
        let text = |s: RwSignal<String>| s.get_untracked().trim().to_owned();
        let optional = |s: RwSignal<String>| Some(text(s)).filter(|t| !t.is_empty());
        let size = |s: RwSignal<String>| optional(s).map(|t| parse_size(&t)).transpose();
        let max_files = match optional(self.max_files) {
            Some(n) => Some(
                n.parse::<u64>()
                    .map_err(|_| format!("\"{n}\" is not a number of files"))?,
            ),
            None => None,
        };
        Ok(NewLinkRequest {
            label: text(self.label),
            message: optional(self.message),
            folder: text(self.folder),
            expires: optional(self.expires).unwrap_or_else(|| "7d".into()),
            limits: Limits {
                max_bytes: size(self.max_bytes)?,
                max_files,
                max_file_size: size(self.max_file)?,
                allowed_types: normalise_types(text(self.types).split(',')),
            },
            password: optional(self.password),
            ask_name: self.ask_name.get_untracked(),
        })
    }
}

/// The form; `created` is called with each link made.
#[component]
pub fn LinkForm(created: Callback<CreatedLink>) -> impl IntoView {
    let fields = Fields::default();
    fields.expires.set("7d".into());
    let problem = RwSignal::new(String::new());
    let submit = {
        let fields = fields.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let request = match fields.request() {
                Ok(request) => request,
                Err(why) => return problem.set(why),
            };
            let fields = fields.clone();
            leptos::task::spawn_local(async move {
                match api::create_link(request).await {
                    Ok(link) => {
                        problem.set(String::new());
                        fields.label.set(String::new());
                        fields.password.set(String::new());
                        created.run(link);
                    }
                    Err(err) => problem.set(err.to_string()),
                }
            });
        }
    };
    let field =
        |id: &'static str, label: &'static str, value: RwSignal<String>, kind: &'static str| {
            view! {
                <label for=id>{label}</label>
                <input id=id type=kind bind:value=value />
            }
        };
    view! {
        <form class="link-form" on:submit=submit data-testid="link-form">
            {field("link-label", text::LINK_LABEL, fields.label, "text")}
            {field("link-message", text::LINK_MESSAGE, fields.message, "text")}
            {field("link-folder", text::LINK_FOLDER, fields.folder, "text")}
            {field("link-expires", text::LINK_EXPIRES, fields.expires, "text")}
            {field("link-max-bytes", text::LINK_MAX_BYTES, fields.max_bytes, "text")}
            {field("link-max-files", text::LINK_MAX_FILES, fields.max_files, "text")}
            {field("link-max-file", text::LINK_MAX_FILE, fields.max_file, "text")}
            {field("link-types", text::LINK_TYPES, fields.types, "text")}
            {field("link-password", text::LINK_PASSWORD, fields.password, "password")}
            <label class="check">
                <input type="checkbox" bind:checked=fields.ask_name />
                {text::LINK_ASK_NAME}
            </label>
            <p class="notice" role="alert" hidden=move || problem.with(String::is_empty)>
                {move || problem.get()}
            </p>
            <button type="submit" class="button">{text::NEW_LINK}</button>
        </form>
    }
}
