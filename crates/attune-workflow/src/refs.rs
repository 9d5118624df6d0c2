//! Validated reference types shared by every layer: [`PackRef`].
//!
//! Constructors are the only way in, so code holding a `PackRef` never
//! re-checks it (and never builds a path from an unchecked string).

/// A validated pack ref: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`, never `..`,
/// never ending in `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackRef(String);

impl PackRef {
    /// The only way to build a `PackRef`.
    pub fn parse(s: &str) -> Result<PackRef, String> {
        let shown: String = s.chars().take(64).collect();
        let shown = if shown.len() < s.len() {
            format!("{shown}…")
        } else {
            shown
        };
        let mut chars = s.chars();
        let Some(first) = chars.next() else {
            return Err("invalid pack ref '': a pack ref cannot be empty".into());
        };
        if !first.is_ascii_alphanumeric() {
            return Err(format!(
                "invalid pack ref '{shown}': it must start with a letter or digit"
            ));
        }
        if s.len() > 128 {
            return Err(format!(
                "invalid pack ref '{shown}': it is {} characters long; the limit is 128",
                s.chars().count()
            ));
        }
        if let Some(bad) =
            chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(format!(
                "invalid pack ref '{shown}': character '{bad}' is not allowed; use letters, digits, '_', '.' and '-'"
            ));
        }
        if s.contains("..") {
            return Err(format!(
                "invalid pack ref '{shown}': it must not contain '..'"
            ));
        }
        if s.ends_with('.') {
            return Err(format!(
                "invalid pack ref '{shown}': it must not end with '.' (workflow refs would contain '..'); remove the trailing dot"
            ));
        }
        Ok(PackRef(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for PackRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PackRef;

    #[test]
    fn good_pack_refs_parse() {
        for ok in [
            "core",
            "my_pack",
            "aws.ec2",
            "a",
            "A-1.b_c",
            &"x".repeat(128),
        ] {
            assert_eq!(PackRef::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn bad_pack_refs_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("../etc", "start with"),
            ("a/b", "'/'"),
            (".x", "start with"),
            ("a..b", "'..'"),
            ("a.", "end with '.'"),
            ("a b", "' '"),
            ("é", "start with"),
            ("aé", "'é'"),
        ] {
            let err = PackRef::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let err = PackRef::parse(&"x".repeat(300)).unwrap_err();
        assert!(err.contains("limit is 128"), "{err}");
    }

    #[test]
    fn pack_ref_agrees_with_the_workflow_core() {
        let long = "x".repeat(128);
        let too_long = "x".repeat(129);
        for s in [
            "core", "a.b", "a..b", "a.", ".x", "-x", "x-", "a/b", "", "é", &long, &too_long, "A_1",
        ] {
            assert_eq!(
                PackRef::parse(s).is_ok(),
                crate::is_valid_pack_ref(s),
                "{s:?}"
            );
        }
    }
}
