//! Option flags, as CPython's `doctest` registers them. The bit order is CPython's
//! registration order so that a set of flags prints and compares the same way.

/// A set of doctest option flags (a bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u32);

impl Flags {
    pub const NONE: Flags = Flags(0);
    pub const DONT_ACCEPT_TRUE_FOR_1: Flags = Flags(1 << 0);
    pub const DONT_ACCEPT_BLANKLINE: Flags = Flags(1 << 1);
    pub const NORMALIZE_WHITESPACE: Flags = Flags(1 << 2);
    pub const ELLIPSIS: Flags = Flags(1 << 3);
    pub const SKIP: Flags = Flags(1 << 4);
    pub const IGNORE_EXCEPTION_DETAIL: Flags = Flags(1 << 5);
    pub const REPORT_UDIFF: Flags = Flags(1 << 6);
    pub const REPORT_CDIFF: Flags = Flags(1 << 7);
    pub const REPORT_NDIFF: Flags = Flags(1 << 8);
    pub const REPORT_ONLY_FIRST_FAILURE: Flags = Flags(1 << 9);
    pub const FAIL_FAST: Flags = Flags(1 << 10);

    /// Every flag name `-o` and `# doctest:` directives accept, in CPython's order.
    pub const NAMES: [(&'static str, Flags); 11] = [
        ("DONT_ACCEPT_TRUE_FOR_1", Flags::DONT_ACCEPT_TRUE_FOR_1),
        ("DONT_ACCEPT_BLANKLINE", Flags::DONT_ACCEPT_BLANKLINE),
        ("NORMALIZE_WHITESPACE", Flags::NORMALIZE_WHITESPACE),
        ("ELLIPSIS", Flags::ELLIPSIS),
        ("SKIP", Flags::SKIP),
        ("IGNORE_EXCEPTION_DETAIL", Flags::IGNORE_EXCEPTION_DETAIL),
        ("REPORT_UDIFF", Flags::REPORT_UDIFF),
        ("REPORT_CDIFF", Flags::REPORT_CDIFF),
        ("REPORT_NDIFF", Flags::REPORT_NDIFF),
        (
            "REPORT_ONLY_FIRST_FAILURE",
            Flags::REPORT_ONLY_FIRST_FAILURE,
        ),
        ("FAIL_FAST", Flags::FAIL_FAST),
    ];

    /// The flag called `name` (exact, upper case), if there is one.
    pub fn by_name(name: &str) -> Option<Flags> {
        Flags::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// True when any flag of `other` is set in `self`.
    pub fn has(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    pub fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub fn without(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.with(rhs)
    }
}

impl std::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// A per-example override from a `# doctest:` directive: set (`+`) or clear (`-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive {
    pub flag: Flags,
    pub on: bool,
}

/// Apply directives to the run's flags, in order (a later directive wins, as with
/// CPython's options dict).
pub fn merge(base: Flags, directives: &[Directive]) -> Flags {
    directives.iter().fold(base, |acc, d| {
        if d.on {
            acc.with(d.flag)
        } else {
            acc.without(d.flag)
        }
    })
}
