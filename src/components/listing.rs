//! The stored files list's model: which files it shows and where its next page starts,
//! and what each answer of the server does to them. Pure (no signals, no calls), so its
//! merging rules are tested here with tables; [`super::stored_files`] asks the server
//! and draws it.

use crate::api::{FilePage, ListedFile};

/// How many files one page of the list shows.
pub const PAGE: usize = 20;

/// What the list shows: files, newest first, and where its next page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub files: Vec<ListedFile>,
    pub next: Option<String>,
}

impl Listing {
    /// Takes a refresh's answer (the newest files, more than a page's worth). Where the
    /// list shows more than its first page and the answer reaches back to a file it
    /// shows, the answer is the truth as far as that file: its files replace the shown
    /// ones up to there (new ones where they fall, which need not be on top: files
    /// started in the same instant sort by their random part; deleted ones gone), and
    /// the pages the person opened beyond it stay (the answer's older files are theirs
    /// to reach with "Show more"). Otherwise the list starts again with a first page of
    /// the usual length.
    pub fn refresh(&mut self, newest: FilePage) {
        let last_shown = newest.files.iter().rposition(|f| self.shows(f));
        if let Some(last) = last_shown
            && self.files.len() > PAGE
        {
            let key = &newest.files[last].key;
            let beyond = self
                .files
                .iter()
                .position(|f| &f.key == key)
                .map_or(0, |at| at + 1);
            let mut files = newest.files;
            files.truncate(last + 1);
            files.extend(self.files.drain(beyond..));
            self.files = files;
            return;
        }
        let mut first = newest.files;
        self.next = if first.len() > PAGE {
            first.truncate(PAGE);
            first.last().map(|f| f.key.clone())
        } else {
            newest.next
        };
        self.files = first;
    }

    /// Takes a "Show more" answer: its files not shown yet go at the end, and the next
    /// page starts where it ends. Answers where to ask again when it held only files
    /// already shown (a refresh had put them on top).
    pub fn extend(&mut self, page: FilePage) -> Option<String> {
        let new: Vec<_> = page.files.into_iter().filter(|f| !self.shows(f)).collect();
        let added = !new.is_empty();
        self.files.extend(new);
        self.next = page.next.clone();
        page.next.filter(|_| !added)
    }

    /// Takes a deleted file off the list.
    pub fn remove(&mut self, key: &str) {
        self.files.retain(|f| f.key != key);
    }

    fn shows(&self, file: &ListedFile) -> bool {
        self.files.iter().any(|shown| shown.key == file.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files named by number, newest (highest) first: `files(5, 3)` is 5, 4, 3.
    fn files(from: u32, to: u32) -> Vec<ListedFile> {
        (to..=from)
            .rev()
            .map(|n| ListedFile {
                key: format!("k{n:03}"),
                path: format!("f{n}"),
                size: 1,
                modified: 0,
                download_url: String::new(),
            })
            .collect()
    }

    fn page(files: Vec<ListedFile>, next: Option<&str>) -> FilePage {
        FilePage {
            files,
            next: next.map(str::to_owned),
            can_delete: false,
        }
    }

    fn keys(listing: &Listing) -> (String, String, usize) {
        let first = listing
            .files
            .first()
            .map(|f| f.key.clone())
            .unwrap_or_default();
        let last = listing
            .files
            .last()
            .map(|f| f.key.clone())
            .unwrap_or_default();
        (first, last, listing.files.len())
    }

    #[test]
    fn refreshes_keep_opened_pages_only_where_they_reach_them() {
        let shown = |from, to, next: Option<&str>| Listing {
            files: files(from, to),
            next: next.map(str::to_owned),
        };
        // (what is shown, the refresh's answer, (first key, last key, count), next)
        type Case = (
            Listing,
            FilePage,
            (&'static str, &'static str, usize),
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            // Nothing shown: a first page of twenty, the rest after its last.
            (
                Listing::default(),
                page(files(100, 1), Some("k001")),
                ("k100", "k081", 20),
                Some("k081"),
            ),
            // A short store: all of it, and the server's own cursor (none).
            (
                Listing::default(),
                page(files(5, 1), None),
                ("k005", "k001", 5),
                None,
            ),
            // Two pages opened (60..21) and three new files: on top, the rest kept; the
            // answer's older files (20..1) are not put on top of them.
            (
                shown(60, 21, Some("k021")),
                page(files(63, 1), None),
                ("k063", "k021", 43),
                Some("k021"),
            ),
            // Two pages opened and the answer reaches past them: it is the truth
            // there, and nothing of it older than the last shown file is put in.
            (
                shown(60, 21, Some("k021")),
                page(files(65, 1), None),
                ("k065", "k021", 45),
                Some("k021"),
            ),
            // Two pages opened but the answer does not reach them: start again.
            (
                shown(60, 21, Some("k021")),
                page(files(200, 101), Some("k101")),
                ("k200", "k181", 20),
                Some("k181"),
            ),
            // Only the first page shown: start again, even where the answer overlaps.
            (
                shown(20, 1, None),
                page(files(22, 1), None),
                ("k022", "k003", 20),
                Some("k003"),
            ),
        ];
        for (mut listing, answer, (first, last, count), next) in cases {
            listing.refresh(answer);
            assert_eq!(keys(&listing), (first.into(), last.into(), count));
            assert_eq!(listing.next.as_deref(), next, "{first}..{last}");
        }
    }

    #[test]
    fn a_refresh_puts_new_files_where_they_fall_and_drops_deleted_ones() {
        // Two pages opened (60..21, a page of 20 more after them).
        let mut listing = Listing {
            files: files(60, 21),
            next: Some("k021".into()),
        };
        // Files started in the same instant as shown ones sort among them (their ids
        // end in random bits): the answer holds two new ones in the middle, and lacks
        // one deleted meanwhile.
        let new = |key: &str| ListedFile {
            key: key.into(),
            path: key.into(),
            size: 1,
            modified: 0,
            download_url: String::new(),
        };
        let mut answer = files(60, 31);
        answer.insert(5, new("k055-new"));
        answer.insert(20, new("k041-new"));
        answer.retain(|f| f.key != "k050");
        listing.refresh(page(answer, Some("k031")));
        let keys: Vec<&str> = listing.files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys.len(), 41, "{keys:?}");
        assert_eq!(&keys[4..7], ["k056", "k055-new", "k055"]);
        assert!(keys.contains(&"k041-new") && !keys.contains(&"k050"));
        // The opened pages beyond the answer stay, and so does where "Show more" goes.
        assert_eq!(keys.last(), Some(&"k021"));
        assert_eq!(listing.next.as_deref(), Some("k021"));
    }

    #[test]
    fn show_more_adds_what_is_new_and_asks_past_pages_of_shown_files() {
        let mut listing = Listing {
            files: files(40, 21),
            next: Some("k021".into()),
        };
        // The next page: all new.
        assert_eq!(listing.extend(page(files(20, 1), Some("k001"))), None);
        assert_eq!(keys(&listing), ("k040".into(), "k001".into(), 40));
        assert_eq!(listing.next.as_deref(), Some("k001"));

        // A page of files already shown (a refresh put them on top): ask past it.
        let mut listing = Listing {
            files: files(40, 1),
            next: Some("k021".into()),
        };
        assert_eq!(
            listing.extend(page(files(20, 1), Some("k001"))).as_deref(),
            Some("k001")
        );
        assert_eq!(listing.files.len(), 40, "nothing shown twice");
        // …unless it was the last page.
        assert_eq!(listing.extend(page(files(20, 1), None)), None);
        assert_eq!(listing.next, None);

        // Partly new: the new ones are added, and that is enough.
        let mut listing = Listing {
            files: files(40, 15),
            next: Some("k015".into()),
        };
        assert_eq!(listing.extend(page(files(20, 1), Some("k001"))), None);
        assert_eq!(keys(&listing), ("k040".into(), "k001".into(), 40));
    }

    #[test]
    fn a_deleted_file_leaves_the_list() {
        let mut listing = Listing {
            files: files(3, 1),
            next: None,
        };
        listing.remove("k002");
        assert_eq!(keys(&listing), ("k003".into(), "k001".into(), 2));
        listing.remove("k999");
        assert_eq!(listing.files.len(), 2);
    }
}
