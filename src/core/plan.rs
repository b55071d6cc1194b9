//! Part planning: how a file of a given size is cut into S3 parts.
//!
//! The server decides the plan and binds it into the upload token; the browser follows
//! it. Both compute part ranges with the same code, so they always agree.

use serde::{Deserialize, Serialize};

use super::limits::{MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MIN_PART_SIZE};

/// How a file is cut into parts: every part is `part_size` bytes except the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "page", derive(utoipa::ToSchema))]
pub struct PartPlan {
    /// The file's size in bytes.
    pub size: u64,
    /// The size of every part but the last.
    pub part_size: u64,
    /// How many parts there are (at least 1).
    pub part_count: u32,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The file is larger than S3 can store.
    #[error("a file of {size} bytes is larger than the {MAX_OBJECT_SIZE} bytes S3 can store")]
    TooLarge { size: u64 },
}

impl PartPlan {
    /// Plans the parts of a file of `size` bytes with the server's `part_size`.
    ///
    /// The part size is raised to S3's 5 MiB minimum, and further so that the file fits
    /// in 10,000 parts (as Uppy does: max(preferred, 5 MiB, ⌈size / 10,000⌉)).
    pub fn new(size: u64, part_size: u64) -> Result<Self, PlanError> {
        if size > MAX_OBJECT_SIZE {
            return Err(PlanError::TooLarge { size });
        }
        let part_size = part_size
            .max(MIN_PART_SIZE)
            .max(size.div_ceil(u64::from(MAX_PARTS)))
            .min(MAX_PART_SIZE);
        let part_count = size.div_ceil(part_size).max(1);
        // `size <= 5 TiB` and `part_size >= size / 10,000` keep this within u32 and 10,000.
        let part_count = u32::try_from(part_count).map_err(|_| PlanError::TooLarge { size })?;
        Ok(Self {
            size,
            part_size,
            part_count,
        })
    }

    /// The byte range `[start, end)` of part `part_number` (1-based), or `None` outside the plan.
    pub fn range(&self, part_number: u32) -> Option<(u64, u64)> {
        if part_number == 0 || part_number > self.part_count {
            return None;
        }
        let start = u64::from(part_number - 1) * self.part_size;
        let end = (start + self.part_size).min(self.size);
        Some((start, end))
    }

    /// The exact length of part `part_number`, or `None` outside the plan.
    pub fn part_len(&self, part_number: u32) -> Option<u64> {
        self.range(part_number).map(|(start, end)| end - start)
    }

    /// Whether the file goes in one PUT (a plan of one part) rather than a multipart
    /// upload: the server decides by it, and the page by the same rule beforehand.
    pub fn is_single_put(&self) -> bool {
        self.part_count == 1
    }

    /// Whether the plan's numbers are internally consistent and within S3's rules.
    ///
    /// The server checks a plan it reads back from a token before trusting it.
    pub fn is_valid(&self) -> bool {
        self.part_count >= 1
            && self.part_count <= MAX_PARTS
            && self.part_size >= MIN_PART_SIZE
            && self.part_size <= MAX_PART_SIZE
            && self.size <= MAX_OBJECT_SIZE
            && u64::from(self.part_count) == self.size.div_ceil(self.part_size).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::{DEFAULT_PART_SIZE, GIB, MIB};

    fn plan(size: u64) -> PartPlan {
        PartPlan::new(size, DEFAULT_PART_SIZE).expect("plannable")
    }

    #[test]
    fn sizes_at_the_edges() {
        let cases = [
            // size, part size, part count
            (0, DEFAULT_PART_SIZE, 1),
            (1, DEFAULT_PART_SIZE, 1),
            (5 * MIB - 1, DEFAULT_PART_SIZE, 1),
            (5 * MIB, DEFAULT_PART_SIZE, 1),
            (5 * MIB + 1, DEFAULT_PART_SIZE, 1),
            (8 * MIB, DEFAULT_PART_SIZE, 1),
            (8 * MIB + 1, DEFAULT_PART_SIZE, 2),
            (40 * MIB, DEFAULT_PART_SIZE, 5),
        ];
        for (size, part_size, count) in cases {
            let p = plan(size);
            assert_eq!(
                (p.part_size, p.part_count),
                (part_size, count),
                "size {size}"
            );
            assert!(p.is_valid(), "size {size}");
        }
    }

    #[test]
    fn small_preferences_are_raised_to_the_s3_minimum() {
        let p = PartPlan::new(20 * MIB, 1).expect("plannable");
        assert_eq!(p.part_size, MIN_PART_SIZE);
        assert_eq!(p.part_count, 4);
        assert_eq!(p.part_len(4), Some(5 * MIB));
        let p = PartPlan::new(5 * MIB + 1, 1).expect("plannable");
        assert_eq!((p.part_count, p.part_len(2)), (2, Some(1)));
    }

    #[test]
    fn the_ten_thousand_part_boundary() {
        // Exactly 10,000 parts of the preferred size.
        let p = plan(10_000 * DEFAULT_PART_SIZE);
        assert_eq!((p.part_size, p.part_count), (DEFAULT_PART_SIZE, 10_000));
        // One byte more needs larger parts, never a 10,001st.
        let p = plan(10_000 * DEFAULT_PART_SIZE + 1);
        assert_eq!(p.part_count, 10_000);
        assert!(p.part_size > DEFAULT_PART_SIZE);
        assert!(u64::from(p.part_count) * p.part_size >= p.size);
        // The largest object S3 stores still fits.
        let p = plan(MAX_OBJECT_SIZE);
        assert!(p.part_count <= MAX_PARTS && p.part_size <= MAX_PART_SIZE);
        assert!(p.is_valid());
        assert_eq!(
            PartPlan::new(MAX_OBJECT_SIZE + 1, DEFAULT_PART_SIZE),
            Err(PlanError::TooLarge {
                size: MAX_OBJECT_SIZE + 1
            })
        );
    }

    #[test]
    fn ranges_cover_the_file_exactly() {
        for size in [0, 1, 5 * MIB - 1, 5 * MIB + 1, 33 * MIB + 7, GIB] {
            let p = plan(size);
            let mut next = 0;
            for n in 1..=p.part_count {
                let (start, end) = p.range(n).expect("in plan");
                assert_eq!(start, next);
                assert!(end > start || size == 0);
                if n < p.part_count {
                    assert_eq!(end - start, p.part_size);
                }
                next = end;
            }
            assert_eq!(next, size);
            assert_eq!(p.range(0), None);
            assert_eq!(p.range(p.part_count + 1), None);
        }
    }

    #[test]
    fn inconsistent_plans_are_invalid() {
        let good = plan(40 * MIB);
        let bad = [
            PartPlan {
                part_count: 4,
                ..good
            },
            PartPlan {
                part_count: 0,
                ..good
            },
            PartPlan {
                part_size: MIB,
                ..good
            },
            PartPlan {
                size: 41 * MIB,
                ..good
            },
        ];
        for p in bad {
            assert!(!p.is_valid(), "{p:?}");
        }
    }
}

/// Properties over every size and preferred part size, not only the tables' cases.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::core::limits::GIB;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_plan_cuts_any_file_into_parts_s3_takes(
            size in prop_oneof![0..=64 * MIN_PART_SIZE, 0..=MAX_OBJECT_SIZE],
            preferred in 0..=10 * GIB,
        ) {
            let plan = PartPlan::new(size, preferred).expect("any size up to 5 TiB");
            prop_assert!(plan.is_valid());
            prop_assert!((1..=MAX_PARTS).contains(&plan.part_count));
            prop_assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&plan.part_size));
            // The parts follow each other from 0 to the end of the file, each but the
            // last of the part size, none empty unless the file is.
            let mut next = 0;
            for n in 1..=plan.part_count {
                let (start, end) = plan.range(n).expect("in the plan");
                prop_assert_eq!(start, next);
                prop_assert!(end > start || size == 0);
                if n < plan.part_count {
                    prop_assert_eq!(end - start, plan.part_size);
                }
                prop_assert_eq!(plan.part_len(n), Some(end - start));
                next = end;
            }
            prop_assert_eq!(next, size);
            prop_assert_eq!(plan.range(0), None);
            prop_assert_eq!(plan.range(plan.part_count + 1), None);
        }

        #[test]
        fn a_file_larger_than_s3_takes_has_no_plan(size in MAX_OBJECT_SIZE + 1.., preferred: u64) {
            prop_assert_eq!(PartPlan::new(size, preferred), Err(PlanError::TooLarge { size }));
        }
    }
}
