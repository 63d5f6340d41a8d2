//! Sealed screenshots: an image encrypted on the device to the public keys
//! of the people who may see it, which only their browsers can open. An
//! age-like construction from standard parts, each from a well-kept crate and
//! each in the browser's WebCrypto: a random file key encrypts the image
//! (AES-256-GCM); for each recipient, X25519 between a fresh ephemeral key
//! and theirs, through HKDF-SHA256, gives the key that wraps the file key.
//!
//! ```text
//! "STE1" | n: u8 | ephemeral public: 32
//! n × ( key id: 16 | wrapped file key: 48 )   key id = SHA-256(public)[..16]
//! payload nonce: 12 | AES-256-GCM(file key, nonce, image, aad = all before)
//! ```
//! A wrap key serves once (its ephemeral key is new for every image), so
//! its nonce is zero, as age's is; the key id is its associated data.
//! `assets/e2e.js` in stint-server opens it; the two are tested together.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"STE1";
const BUNDLE: &[u8; 4] = b"STB1";
/// The most people one image is sealed to.
pub const MAX_RECIPIENTS: usize = 64;
const STANZA: usize = 16 + 48;
const INFO: &[u8] = b"stint-e2e v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("an image is sealed to 1 to {MAX_RECIPIENTS} people, not {0}")]
    Recipients(usize),
    #[error("not a sealed image (no STE1 header, or cut short)")]
    NotSealed,
    #[error("sealed to other keys: none of its key ids is this key's")]
    NotForThisKey,
    #[error("the sealed image does not open: altered, or the wrong key")]
    Altered,
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("public key {0:?} is not 32 bytes of standard base64")]
    BadKey(String),
}

/// Public keys as the heartbeat and the web UI spell them (standard base64
/// of the 32 raw bytes), all or none.
pub fn public_keys(keys: &[String]) -> Result<Vec<[u8; 32]>, SealError> {
    use base64::Engine;
    if keys.len() > MAX_RECIPIENTS {
        return Err(SealError::Recipients(keys.len()));
    }
    keys.iter()
        .map(|k| {
            base64::engine::general_purpose::STANDARD
                .decode(k)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| SealError::BadKey(k.chars().take(60).collect()))
        })
        .collect()
}

/// The public half of an X25519 secret key.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*secret)).to_bytes()
}

/// A key id as the web UI and the database spell it.
pub fn key_id_hex(public: &[u8; 32]) -> String {
    key_id(public).iter().map(|b| format!("{b:02x}")).collect()
}

/// A public key's id, as the sealed header names it.
pub fn key_id(public: &[u8; 32]) -> [u8; 16] {
    let d = Sha256::digest(public);
    let mut id = [0; 16];
    id.copy_from_slice(&d[..16]);
    id
}

fn random<const N: usize>() -> Result<[u8; N], SealError> {
    let mut b = [0; N];
    getrandom::fill(&mut b).map_err(|e| SealError::Random(e.to_string()))?;
    Ok(b)
}

fn wrap_key(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Aes256Gcm {
    let mut salt = [0; 64];
    salt[..32].copy_from_slice(eph);
    salt[32..].copy_from_slice(recipient);
    let hk = hkdf::Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut okm = [0; 32];
    hk.expand(INFO, &mut okm)
        .expect("32 bytes is a valid HKDF length");
    Aes256Gcm::new_from_slice(&okm).expect("a 32-byte key")
}

fn nonce(bytes: &[u8]) -> aes_gcm::aead::Nonce<Aes256Gcm> {
    let mut n = [0u8; 12];
    n.copy_from_slice(bytes);
    n.into()
}

/// `plain` sealed to each of `recipients` (X25519 public keys).
pub fn seal(plain: &[u8], recipients: &[[u8; 32]]) -> Result<Vec<u8>, SealError> {
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(SealError::Recipients(recipients.len()));
    }
    let file_key: [u8; 32] = random()?;
    let eph = x25519_dalek::StaticSecret::from(random::<32>()?);
    let eph_pub = x25519_dalek::PublicKey::from(&eph).to_bytes();
    let mut out = Vec::with_capacity(plain.len() + 64 + recipients.len() * STANZA);
    out.extend_from_slice(MAGIC);
    out.push(recipients.len() as u8);
    out.extend_from_slice(&eph_pub);
    for r in recipients {
        let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(*r));
        let kid = key_id(r);
        let wrapped = wrap_key(shared.as_bytes(), &eph_pub, r)
            .encrypt(
                &nonce(&[0; 12]),
                Payload {
                    msg: &file_key,
                    aad: &kid,
                },
            )
            .map_err(|_| SealError::Altered)?;
        out.extend_from_slice(&kid);
        out.extend_from_slice(&wrapped);
    }
    let payload_nonce: [u8; 12] = random()?;
    out.extend_from_slice(&payload_nonce);
    let body = Aes256Gcm::new_from_slice(&file_key)
        .expect("a 32-byte key")
        .encrypt(
            &nonce(&payload_nonce),
            Payload {
                msg: plain,
                aad: &out,
            },
        )
        .map_err(|_| SealError::Altered)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// A sealed header's parts: the ephemeral key, each (key id, wrapped file
/// key), and where the payload begins.
type Header<'a> = (&'a [u8], Vec<(&'a [u8], &'a [u8])>, usize);

fn header(sealed: &[u8]) -> Result<Header<'_>, SealError> {
    if sealed.len() < 5 || &sealed[..4] != MAGIC {
        return Err(SealError::NotSealed);
    }
    let n = sealed[4] as usize;
    let payload_at = 5 + 32 + n * STANZA + 12;
    if n == 0 || sealed.len() < payload_at + 16 {
        return Err(SealError::NotSealed);
    }
    let stanzas = (0..n)
        .map(|i| {
            let at = 37 + i * STANZA;
            (&sealed[at..at + 16], &sealed[at + 16..at + STANZA])
        })
        .collect();
    Ok((&sealed[5..37], stanzas, payload_at))
}

/// The key ids a sealed image names: who can open it.
pub fn key_ids(sealed: &[u8]) -> Result<Vec<[u8; 16]>, SealError> {
    let (_, stanzas, _) = header(sealed)?;
    Ok(stanzas
        .iter()
        .map(|(kid, _)| {
            let mut k = [0; 16];
            k.copy_from_slice(kid);
            k
        })
        .collect())
}

/// Opens `sealed` with an X25519 secret key (the browser does this; here
/// for tests and recovery tools).
pub fn open(sealed: &[u8], secret: &[u8; 32]) -> Result<Vec<u8>, SealError> {
    let (eph_pub, stanzas, payload_at) = header(sealed)?;
    let secret = x25519_dalek::StaticSecret::from(*secret);
    let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
    let kid = key_id(&public);
    let (_, wrapped) = stanzas
        .iter()
        .find(|(k, _)| *k == kid)
        .ok_or(SealError::NotForThisKey)?;
    let mut eph = [0; 32];
    eph.copy_from_slice(eph_pub);
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(eph));
    let file_key = wrap_key(shared.as_bytes(), &eph, &public)
        .decrypt(
            &nonce(&[0; 12]),
            Payload {
                msg: wrapped,
                aad: &kid,
            },
        )
        .map_err(|_| SealError::Altered)?;
    Aes256Gcm::new_from_slice(&file_key)
        .map_err(|_| SealError::Altered)?
        .decrypt(
            &nonce(&sealed[payload_at - 12..payload_at]),
            Payload {
                msg: &sealed[payload_at..],
                aad: &sealed[..payload_at],
            },
        )
        .map_err(|_| SealError::Altered)
}

/// A capture as a sealing agent stores and uploads it: `image` and its
/// thumbnail (made here, the server's own, since the server cannot), each
/// sealed to `keys`, bundled. An image that does not decode stands in for
/// its own thumbnail rather than leave the diary blank.
pub fn seal_capture(image: &[u8], format: &str, keys: &[[u8; 32]]) -> Result<Vec<u8>, SealError> {
    let thumb = crate::thumb::make(image, format).unwrap_or_else(|| image.to_vec());
    Ok(bundle(&seal(&thumb, keys)?, &seal(image, keys)?))
}

/// A sealed capture as the agent uploads it: its thumbnail and its image,
/// each sealed. `"STB1" | thumbnail length: u32 BE | thumbnail | image`.
pub fn bundle(thumb: &[u8], image: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + thumb.len() + image.len());
    out.extend_from_slice(BUNDLE);
    out.extend_from_slice(&(thumb.len() as u32).to_be_bytes());
    out.extend_from_slice(thumb);
    out.extend_from_slice(image);
    out
}

/// The two sealed parts of a bundle; `None` when it is not one or either
/// part is not sealed.
pub fn unbundle(body: &[u8]) -> Option<(&[u8], &[u8])> {
    if body.len() < 8 || &body[..4] != BUNDLE {
        return None;
    }
    let n = u32::from_be_bytes(body[4..8].try_into().ok()?) as usize;
    let rest = &body[8..];
    if n > rest.len() {
        return None;
    }
    let (thumb, image) = rest.split_at(n);
    (header(thumb).is_ok() && header(image).is_ok()).then_some((thumb, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypair() -> ([u8; 32], [u8; 32]) {
        let secret = random::<32>().unwrap();
        let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(secret));
        (secret, public.to_bytes())
    }

    #[test]
    fn each_recipient_opens_it_and_nobody_else() {
        let (a, a_pub) = keypair();
        let (b, b_pub) = keypair();
        let (c, _) = keypair();
        let image = b"RIFF....WEBPVP8 pretend pixels".repeat(50);
        let sealed = seal(&image, &[a_pub, b_pub]).unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"WEBP"), "no plaintext");
        assert_eq!(open(&sealed, &a).unwrap(), image);
        assert_eq!(open(&sealed, &b).unwrap(), image);
        assert_eq!(open(&sealed, &c), Err(SealError::NotForThisKey));
        assert_eq!(key_ids(&sealed).unwrap(), [key_id(&a_pub), key_id(&b_pub)]);
        // Two seals of one image share nothing.
        assert_ne!(seal(&image, &[a_pub]).unwrap()[5..], sealed[5..]);
    }

    #[test]
    fn any_altered_byte_or_a_cut_refuses_to_open() {
        let (a, a_pub) = keypair();
        let sealed = seal(b"pixels", &[a_pub]).unwrap();
        for at in [4, 5, 40, 37 + 16, sealed.len() - 20, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 1;
            assert!(open(&bad, &a).is_err(), "byte {at}");
        }
        for len in [0, 3, 10, 37, sealed.len() - 17] {
            assert!(open(&sealed[..len], &a).is_err(), "cut at {len}");
        }
        assert_eq!(seal(b"x", &[]), Err(SealError::Recipients(0)));
        assert_eq!(
            seal(b"x", &vec![a_pub; MAX_RECIPIENTS + 1]),
            Err(SealError::Recipients(MAX_RECIPIENTS + 1))
        );
    }

    #[test]
    fn public_keys_are_32_bytes_of_base64_all_or_none() {
        use base64::Engine;
        let (_, a_pub) = keypair();
        let good = base64::engine::general_purpose::STANDARD.encode(a_pub);
        assert_eq!(public_keys(std::slice::from_ref(&good)).unwrap(), [a_pub]);
        for bad in ["", "AAAA", "not base64!", &good[..20]] {
            let err = public_keys(&[good.clone(), bad.to_string()]).unwrap_err();
            assert!(matches!(err, SealError::BadKey(_)), "{bad:?}: {err}");
        }
        assert_eq!(key_id_hex(&a_pub).len(), 32);
    }

    #[test]
    fn a_bundle_holds_two_sealed_parts_or_is_refused() {
        let (_, a_pub) = keypair();
        let (t, i) = (
            seal(b"t", &[a_pub]).unwrap(),
            seal(b"image", &[a_pub]).unwrap(),
        );
        let b = bundle(&t, &i);
        assert_eq!(unbundle(&b), Some((&t[..], &i[..])));
        assert_eq!(unbundle(&bundle(b"plain", &i)), None);
        assert_eq!(unbundle(&b[..20]), None);
        assert_eq!(unbundle(b"RIFF"), None);
    }
}
