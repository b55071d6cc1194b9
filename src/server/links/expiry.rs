//! A link's expiry as people write it: a duration from now, a date or a time.

/// When a link given `text` expires, in Unix seconds: a duration from `now` (`30s`,
/// `90m`, `12h`, `7d`, `2w`), a date (through that day, UTC) or an RFC 3339 time.
pub fn parse_expiry(text: &str, now: u64) -> Result<u64, String> {
    let text = text.trim();
    let invalid = || {
        format!(
            "\"{text}\" is not an expiry: give a duration (90m, 12h, 7d, 2w), a date \
             (2026-12-31) or a time (2026-12-31T18:00:00Z)"
        )
    };
    let at = if let Some(unit @ ('s' | 'm' | 'h' | 'd' | 'w')) = text.chars().last() {
        let count: u64 = text[..text.len() - 1].parse().map_err(|_| invalid())?;
        let seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => 7 * 86_400,
        };
        count
            .checked_mul(seconds)
            .and_then(|s| now.checked_add(s))
            .ok_or_else(invalid)?
    } else if let Ok(date) = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        let end = date.next_day().ok_or_else(invalid)?.midnight().assume_utc();
        u64::try_from(end.unix_timestamp()).map_err(|_| invalid())?
    } else {
        let time =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid())?;
        u64::try_from(time.unix_timestamp()).map_err(|_| invalid())?
    };
    if at <= now {
        return Err(format!("\"{text}\" is not in the future"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_from_durations_dates_and_times() {
        // 2026-12-04 00:00:00 UTC.
        let now = 1_796_342_400;
        let cases = [
            ("30s", Ok(now + 30)),
            ("90m", Ok(now + 90 * 60)),
            ("12h", Ok(now + 12 * 3_600)),
            ("7d", Ok(now + 7 * 86_400)),
            (" 2w ", Ok(now + 14 * 86_400)),
            ("2026-12-04", Ok(now + 86_400)),
            ("2026-12-31", Ok(now + 28 * 86_400)),
            ("2026-12-04T18:00:00Z", Ok(now + 18 * 3_600)),
            ("2026-12-04T18:00:00+01:00", Ok(now + 17 * 3_600)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_expiry(text, now), expected, "{text}");
        }
        for past in [
            "0s",
            "0d",
            "2026-12-03",
            "2026-12-04T00:00:00Z",
            "2000-01-01",
        ] {
            assert!(
                parse_expiry(past, now).expect_err(past).contains("future"),
                "{past}"
            );
        }
        for junk in [
            "",
            "d",
            "-1d",
            "7y",
            "soon",
            "2026-13-01",
            "99999999999999999999w",
        ] {
            assert!(
                parse_expiry(junk, now)
                    .expect_err(junk)
                    .contains("not an expiry"),
                "{junk}"
            );
        }
    }
}
