//! The record as files the operator downloads: CSV for spreadsheets, JSON for scripts,
//! filtered as the page filters it (`?link=…&state=…&name=…`), newest first.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::error::ApiError;
use crate::api::types::{RecordedUpload, UploadState};
use crate::server::record::listing::{self, Filter, MAX_PAGE};
use crate::server::state::AppState;
use crate::server::system::utc;

/// The filter, as the page's export links carry it.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    link: Option<String>,
    state: Option<String>,
    name: Option<String>,
}

impl ExportQuery {
    fn filter(self) -> Result<Filter, ApiError> {
        let state = match self.state.as_deref().filter(|s| !s.is_empty()) {
            Some(word) => Some(UploadState::parse(word).ok_or_else(|| {
                ApiError::BadRequest(format!("\"{word}\" is not an upload's state"))
            })?),
            None => None,
        };
        Ok(Filter {
            link_id: self.link.filter(|l| !l.is_empty()),
            state,
            name: self.name.filter(|n| !n.trim().is_empty()),
        })
    }
}

/// `GET /record.json`: every upload the filter matches, as a JSON array.
pub async fn export_json(
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> Response {
    match everything(&state, query).await {
        Ok(uploads) => (
            [(
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"s3drop-record.json\"",
            )],
            axum::Json(uploads),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// `GET /record.csv`: every upload the filter matches, a row each, times in UTC.
pub async fn export_csv(
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let written = match everything(&state, query).await {
        Ok(uploads) => to_csv(&uploads),
        Err(err) => return err.into_response(),
    };
    match written {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"s3drop-record.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(%err, "could not write the record as CSV");
            ApiError::Internal.into_response()
        }
    }
}

/// Every matching upload, read a page at a time.
async fn everything(state: &AppState, query: ExportQuery) -> Result<Vec<RecordedUpload>, ApiError> {
    let filter = query.filter()?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (page, next) =
            listing::page(&state.database, &filter, after.as_ref(), MAX_PAGE).await?;
        all.extend(page);
        match next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

const COLUMNS: [&str; 14] = [
    "started",
    "finished",
    "state",
    "folder",
    "name",
    "size",
    "content_type",
    "crc32c",
    "link",
    "uploader",
    "client",
    "reason",
    "key",
    "started_unix",
];

fn to_csv(uploads: &[RecordedUpload]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    for u in uploads {
        let text = |value: &Option<String>| cell(value.as_deref().unwrap_or_default());
        out.write_record([
            utc(u.started_at),
            u.finished_at.map(utc).unwrap_or_default(),
            u.state.as_str().to_owned(),
            cell(&u.folder),
            cell(&u.name),
            u.size.to_string(),
            cell(&u.content_type),
            text(&u.crc32c),
            text(&u.link_id),
            text(&u.uploader),
            text(&u.client),
            text(&u.reason),
            cell(&u.key),
            u.started_at.to_string(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A cell a spreadsheet shows as text: one an uploader named to start with `=`, `+`,
/// `-`, `@` or a tab would be read as a formula, so it gets a leading `'`.
fn cell(text: &str) -> String {
    match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_never_become_formulas_and_rows_are_quoted() {
        for (given, kept) in [
            ("a.txt", "a.txt"),
            ("=1+1.csv", "'=1+1.csv"),
            ("-x", "'-x"),
            ("@a", "'@a"),
        ] {
            assert_eq!(cell(given), kept);
        }
        let upload = RecordedUpload {
            key: "uploads/k".into(),
            name: "a, \"b\".txt".into(),
            folder: String::new(),
            size: 5,
            content_type: "text/plain".into(),
            crc32c: None,
            link_id: None,
            uploader: Some("=HYPERLINK(\"x\")".into()),
            client: None,
            state: UploadState::Stored,
            reason: None,
            started_at: 1_796_342_400,
            finished_at: Some(1_796_342_401),
            download_url: None,
        };
        let text = String::from_utf8(to_csv(&[upload]).expect("written")).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(
                "2026-12-04T00:00:00Z,2026-12-04T00:00:01Z,stored,,\"a, \"\"b\"\".txt\",5,text/plain,,,\"'=HYPERLINK(\"\"x\"\")\",,,uploads/k,1796342400"
            )
        );
    }
}
