//! Kubernetes versions and node image versions, parsed and ordered the way AKS orders them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// A Kubernetes version `major.minor.patch`, e.g. `1.30.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubernetesVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl KubernetesVersion {
    pub fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let err = || format!("'{text}' is not a Kubernetes version like 1.30.5");
        let mut parts = text.split('.');
        let mut next = || -> Result<u32, String> {
            let part = parts.next().ok_or_else(err)?;
            let plain = !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit());
            let no_leading_zero = part == "0" || !part.starts_with('0');
            if plain && no_leading_zero && part.len() <= 6 {
                part.parse().map_err(|_| err())
            } else {
                Err(err())
            }
        };
        let version = Self::new(next()?, next()?, next()?);
        match parts.next() {
            None => Ok(version),
            Some(_) => Err(err()),
        }
    }

    /// `major.minor`, the unit the skip and skew rules count in.
    pub fn minor_line(self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// How many minor versions `self` is ahead of `other` (negative when behind). Only
    /// meaningful within one major version, which is all Kubernetes has had.
    pub fn minors_ahead_of(self, other: KubernetesVersion) -> i64 {
        let scale = |v: KubernetesVersion| i64::from(v.major) * 1_000 + i64::from(v.minor);
        scale(self) - scale(other)
    }
}

impl KubernetesVersion {
    /// `major.minor.patch` written digit by digit into `buffer`: every member and upgrade a
    /// wide run's step stores names versions, and `core::fmt` took 4% of its driver's time.
    fn write_into(self, buffer: &mut [u8; 32]) -> &str {
        let mut len = 0;
        for (i, part) in [self.major, self.minor, self.patch].into_iter().enumerate() {
            if i > 0 {
                buffer[len] = b'.';
                len += 1;
            }
            let digits = part.checked_ilog10().unwrap_or(0) as usize + 1;
            crate::model::time::put_digits(&mut buffer[len..len + digits], part);
            len += digits;
        }
        crate::model::time::ascii(&buffer[..len])
    }
}

impl fmt::Display for KubernetesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_into(&mut [0; 32]))
    }
}

impl Serialize for KubernetesVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.write_into(&mut [0; 32]))
    }
}

/// A node image release within a family, e.g. `202409.01.0`: dot-separated numbers compared
/// numerically part by part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRelease(String);

impl ImageRelease {
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = !text.is_empty()
            && text.len() <= 32
            && text
                .split('.')
                .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|c| c.is_ascii_digit()));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "'{text}' is not a node image release like 202409.01.0"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn numbers(&self) -> impl Iterator<Item = u64> + '_ {
        // Each part was checked to be 1–9 digits, so it always fits.
        self.0.split('.').map(|p| p.parse().unwrap_or(0))
    }
}

impl Ord for ImageRelease {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers()
            .cmp(other.numbers())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for ImageRelease {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ImageRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A node image family (AKS calls it the OS SKU / image), e.g. `AKSUbuntu-2204gen2containerd`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageFamily(String);

impl ImageFamily {
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = !text.is_empty()
            && text.len() <= 80
            && text.starts_with(|c: char| c.is_ascii_alphabetic())
            && !text.ends_with('-')
            && text.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "'{text}' is not a node image family like AKSUbuntu-2204gen2containerd"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A full node image version `{family}-{release}`, e.g.
/// `AKSUbuntu-2204gen2containerd-202409.01.0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeImageVersion {
    pub family: ImageFamily,
    pub release: ImageRelease,
}

impl NodeImageVersion {
    pub fn new(family: ImageFamily, release: ImageRelease) -> Self {
        Self { family, release }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let (family, release) = text.rsplit_once('-').ok_or_else(|| {
            format!(
                "'{text}' is not a node image version like AKSUbuntu-2204gen2containerd-202409.01.0"
            )
        })?;
        Ok(Self::new(
            ImageFamily::parse(family)?,
            ImageRelease::parse(release)?,
        ))
    }

    /// `{family}-{release}`, copied into `buffer`: written with every upgrade target a run and
    /// the simulator store (twice a node pool), where `core::fmt`'s way cost a quarter more. `None`
    /// if it does not fit, which parsing rules out (families up to 80 bytes, releases up to 32).
    fn write_into<'b>(&self, buffer: &'b mut [u8; 128]) -> Option<&'b str> {
        let (family, release) = (self.family.0.as_bytes(), self.release.0.as_bytes());
        let len = family.len() + 1 + release.len();
        let text = buffer.get_mut(..len)?;
        text[..family.len()].copy_from_slice(family);
        text[family.len()] = b'-';
        text[family.len() + 1..].copy_from_slice(release);
        std::str::from_utf8(text).ok()
    }
}

impl fmt::Display for NodeImageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.family, self.release)
    }
}

impl Serialize for NodeImageVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.write_into(&mut [0; 128]) {
            Some(text) => s.serialize_str(text),
            None => s.collect_str(self),
        }
    }
}

/// Written as their text (a node image version has a faster way of its own, above).
macro_rules! serialize_as_text {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}

/// Read from their text, checked as `parse` checks it.
macro_rules! deserialize_by_parsing {
    ($($ty:ty),*) => {$(
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                <$ty>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

serialize_as_text!(ImageRelease, ImageFamily);
deserialize_by_parsing!(
    KubernetesVersion,
    ImageRelease,
    ImageFamily,
    NodeImageVersion
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_versions_parse_and_order() {
        let a = KubernetesVersion::parse("1.29.9").unwrap();
        let b = KubernetesVersion::parse("1.30.0").unwrap();
        let c = KubernetesVersion::parse("1.29.10").unwrap();
        assert!(a < c && c < b);
        assert_eq!(b.minors_ahead_of(a), 1);
        assert_eq!(a.to_string(), "1.29.9");
    }

    proptest::proptest! {
        /// The digit-by-digit text is what `core::fmt` writes, and what JSON carries.
        #[test]
        fn kubernetes_versions_write_as_core_fmt_does(major: u32, minor: u32, patch: u32) {
            let v = KubernetesVersion { major, minor, patch };
            let text = format!("{major}.{minor}.{patch}");
            proptest::prop_assert_eq!(v.to_string(), text.clone());
            proptest::prop_assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
        }

        /// A node image version's JSON is its text, whatever the lengths parsing allows, and
        /// reads back as itself.
        #[test]
        fn node_image_versions_write_as_their_text(
            family in "[A-Za-z][A-Za-z0-9-]{0,78}[A-Za-z0-9]",
            release in "[0-9]{1,9}(\\.[0-9]{1,9}){0,2}",
        ) {
            let v = NodeImageVersion::parse(&format!("{family}-{release}")).unwrap();
            let json = serde_json::to_string(&v).unwrap();
            proptest::prop_assert_eq!(&json, &format!("\"{v}\""));
            proptest::prop_assert_eq!(serde_json::from_str::<NodeImageVersion>(&json).unwrap(), v);
        }

        /// A version written reads back as itself (parts of up to six digits, as parsed).
        #[test]
        fn kubernetes_versions_read_back_as_written(
            major in 0_u32..1_000_000,
            minor in 0_u32..1_000_000,
            patch in 0_u32..1_000_000,
        ) {
            let v = KubernetesVersion { major, minor, patch };
            let json = serde_json::to_string(&v).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<KubernetesVersion>(&json).unwrap(), v);
        }
    }

    #[test]
    fn kubernetes_versions_reject_junk() {
        for bad in [
            "", "1.29", "1.29.9.1", "v1.29.9", "1.x.0", "1.029.1", " 1.29.9", "1..9",
        ] {
            assert!(KubernetesVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_releases_compare_numerically() {
        let a = ImageRelease::parse("202409.9.0").unwrap();
        let b = ImageRelease::parse("202409.10.0").unwrap();
        assert!(a < b);
    }

    #[test]
    fn node_image_version_splits_family_from_release() {
        let v = NodeImageVersion::parse("AKSUbuntu-2204gen2containerd-202409.01.0").unwrap();
        assert_eq!(v.family.as_str(), "AKSUbuntu-2204gen2containerd");
        assert_eq!(v.release.as_str(), "202409.01.0");
        assert_eq!(v.to_string(), "AKSUbuntu-2204gen2containerd-202409.01.0");
        assert!(NodeImageVersion::parse("AKSUbuntu").is_err());
        assert!(NodeImageVersion::parse("AKSUbuntu-latest").is_err());
    }
}
