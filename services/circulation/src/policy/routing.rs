//! Where a copy goes after a desk scanned it: a copy of any school may come
//! back at any school of the district. Plain functions, no I/O.

/// Where a scanned copy goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Back on the open shelf where it was scanned.
    Shelf,
    /// On the hold shelf where it was scanned, for a reader waiting there.
    HoldShelf,
    /// Into the transit bin, to this school.
    Transit { to_school_id: String, why: Why },
}

/// Why a copy travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Home to its own school.
    Home,
    /// To the school where a reader waits for it.
    Hold,
}

/// A copy taken back at `here`, belonging to `home`, after holds had their
/// turn: `pickup` is the pickup school of the hold that took it, if one
/// did. A reader waiting here or elsewhere comes first; otherwise the copy
/// goes home.
pub fn after_return(here: &str, home: &str, pickup: Option<&str>) -> Route {
    match pickup {
        Some(pickup) if pickup == here => Route::HoldShelf,
        Some(pickup) => Route::Transit { to_school_id: pickup.to_owned(), why: Why::Hold },
        None if home == here => Route::Shelf,
        None => Route::Transit { to_school_id: home.to_owned(), why: Why::Home },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_goes_to_a_waiting_reader_first_then_home() {
        assert_eq!(after_return("A", "A", None), Route::Shelf);
        assert_eq!(after_return("B", "A", None), Route::Transit { to_school_id: "A".into(), why: Why::Home });
        assert_eq!(after_return("B", "A", Some("B")), Route::HoldShelf);
        assert_eq!(
            after_return("A", "A", Some("C")),
            Route::Transit { to_school_id: "C".into(), why: Why::Hold }
        );
        assert_eq!(
            after_return("B", "A", Some("A")),
            Route::Transit { to_school_id: "A".into(), why: Why::Hold }
        );
    }
}
