//! Outgoing email: SMTP (lettre) in production, a file outbox under `data/outbox/` in
//! development, listed at `/dev/outbox`.

use std::path::PathBuf;

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

/// One message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// Files in a directory (development).
    Outbox {
        /// The directory.
        dir: PathBuf,
        /// The sender.
        from: Mailbox,
    },
    /// An SMTP server.
    Smtp {
        /// The connection pool.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender.
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Outbox { dir, .. } => write!(f, "Mailer::Outbox({})", dir.display()),
            Mailer::Smtp { .. } => write!(f, "Mailer::Smtp"),
        }
    }
}

impl Mailer {
    /// SMTP from a URL such as `smtps://user:password@mail.example.com:465`.
    pub fn smtp(url: &str, from: Mailbox) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("PORTAL_SMTP_URL is not a usable SMTP URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        Ok(Mailer::Smtp { transport, from })
    }

    fn build(from: &Mailbox, mail: &Mail) -> anyhow::Result<Message> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| anyhow::anyhow!("bad recipient {:?}: {e}", mail.to))?;
        Ok(Message::builder()
            .from(from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())?)
    }

    /// Sends (or, for the outbox, writes) a message.
    pub async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        match self {
            Mailer::Outbox { dir, from } => {
                let message = Self::build(from, mail)?;
                tokio::fs::create_dir_all(dir).await?;
                let name = format!(
                    "{}-{}.eml",
                    crate::clock::system_now_ms(),
                    uuid::Uuid::new_v4().simple()
                );
                tokio::fs::write(dir.join(name), message.formatted()).await?;
                Ok(())
            }
            Mailer::Smtp { transport, from } => {
                transport.send(Self::build(from, mail)?).await?;
                Ok(())
            }
        }
    }
}

impl Mailer {
    /// Sends `mail` on a task of its own: the caller's answer neither waits for the mail server
    /// nor takes longer when there is mail to send (a password reset must answer in the same
    /// time whether or not the address has an account). A failure is logged for the operators.
    pub fn send_later(&self, mail: Mail) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::error!(subject = %mail.subject, "an email could not be sent: {e:#}");
            }
        });
    }
}

/// A message read back from the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// File name.
    pub file: String,
    /// `To:` header.
    pub to: String,
    /// `Subject:` header.
    pub subject: String,
    /// Decoded body.
    pub body: String,
}

/// Reads the outbox, newest first.
pub async fn read_outbox(dir: &std::path::Path) -> anyhow::Result<Vec<OutboxMessage>> {
    let mut files = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".eml") {
            files.push(name);
        }
    }
    files.sort_unstable_by(|a, b| b.cmp(a));
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let raw = tokio::fs::read_to_string(dir.join(&file)).await?;
        out.push(parse_message(file, &raw));
    }
    Ok(out)
}

/// Splits a plain-text RFC 5322 message (as lettre writes it) into headers and body.
fn parse_message(file: String, raw: &str) -> OutboxMessage {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    let encoding = header("Content-Transfer-Encoding:");
    let body = if encoding.eq_ignore_ascii_case("quoted-printable") {
        decode_quoted_printable(body)
    } else if encoding.eq_ignore_ascii_case("base64") {
        use base64::{engine::general_purpose::STANDARD, Engine};
        let compact: String = body.split_whitespace().collect();
        STANDARD
            .decode(compact)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| body.to_string())
    } else {
        body.to_string()
    };
    OutboxMessage {
        file,
        to: header("To:"),
        subject: header("Subject:"),
        body: body.replace("\r\n", "\n"),
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_keeps_what_was_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let from: Mailbox = "Voice Customer Portal <no-reply@portal.example>"
            .parse()
            .expect("mailbox");
        let mailer = Mailer::Outbox {
            dir: dir.path().to_path_buf(),
            from,
        };
        let long_link = format!("http://localhost:3000/invite/{}", "x".repeat(80));
        mailer
            .send(&Mail {
                to: "alice@contoso.example".into(),
                subject: "You are invited".into(),
                body: format!("Open {long_link} to start. Café."),
            })
            .await
            .expect("sent");
        let messages = read_outbox(dir.path()).await.expect("read");
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].to, "alice@contoso.example");
        assert_eq!(messages[0].subject, "You are invited");
        assert!(
            messages[0].body.contains(&long_link),
            "{}",
            messages[0].body
        );
        assert!(messages[0].body.contains("Café"), "{}", messages[0].body);
    }

    #[test]
    fn quoted_printable_is_decoded() {
        assert_eq!(
            decode_quoted_printable("Caf=C3=A9 soft=\r\nbreak"),
            "Café softbreak"
        );
    }
}
