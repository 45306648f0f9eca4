//! E-mail against a small SMTP server on loopback (plain, as
//! `smtp://…?tls=none` speaks to a school's own relay): what arrives, and
//! how refusals are told apart. The suite tests do the same against a
//! real server (aiosmtpd). And the webhook against a small HTTP receiver.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::config::{Security, SmtpConfig};
use super::webhook::WebhookPayload;
use super::*;

/// Answers every RCPT with `rcpt_reply`; keeps each message's DATA.
async fn fake_relay(rcpt_reply: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake relay\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &str = if command.starts_with("EHLO") {
                        "250-fake\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("RCPT") {
                        rcpt_reply
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            data.push_str(&line);
                            data.push('\n');
                        }
                        store.lock().unwrap().push(data);
                        "250 2.0.0 Ok: queued as ABC\r\n"
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        "250 ok\r\n"
                    };
                    write.write_all(reply.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (port, received)
}

fn channels(port: u16) -> Channels {
    let config = ChannelConfig {
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            username: None,
            password: None,
        }),
        smtp_from: "library@district.cn".into(),
        webhook: None,
    };
    Channels::new(config, "https://lectern.example.cn".into(), "key".into())
}

#[tokio::test]
async fn a_reminder_arrives_with_its_headers() {
    let (port, received) = fake_relay("250 2.1.5 ok\r\n").await;
    let channels = channels(port);
    let school = SchoolSettings::defaults("school-1");
    let mail = channels.mail(
        &school,
        "实验小学",
        Language::ZhCn,
        "wang.mama@example.cn",
        "【实验小学图书馆】王小明借的书已逾期".into(),
        "您好！\n\n《草房子》已逾期 3 天。".into(),
    );
    let accepted = channels.send_email(&mail).await.unwrap();
    assert!(accepted.detail.starts_with("250"), "{}", accepted.detail);
    let data = received.lock().unwrap().join("");
    assert!(data.contains(&format!("Message-ID: {}", accepted.message_id)), "{data}");
    assert!(data.contains("List-Unsubscribe: <https://lectern.example.cn/unsubscribe?token="), "{data}");
    assert!(data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{data}");

    let answer = channels.send_test_email(&school, "实验小学", "wang.mama@example.cn").await;
    assert!(answer.accepted, "{}", answer.detail);
    assert!(answer.message_id.ends_with("@lectern>"));
}

#[tokio::test]
async fn a_refused_address_is_permanent_without_naming_it_and_a_down_relay_is_not() {
    let (port, _) = fake_relay("550 5.1.1 <wang.mama@example.cn>: Recipient address rejected\r\n").await;
    let channels = channels(port);
    let school = SchoolSettings::defaults("school-1");
    let mail =
        channels.mail(&school, "实验小学", Language::En, "wang.mama@example.cn", "s".into(), "b".into());
    let refused = channels.send_email(&mail).await.unwrap_err();
    assert!(refused.permanent && !refused.unreachable, "{refused:?}");
    assert!(refused.detail.contains("550") && !refused.detail.contains("wang.mama"), "{}", refused.detail);

    let (busy_port, _) = fake_relay("451 4.3.0 try later\r\n").await;
    let refused = self::channels(busy_port).send_email(&mail).await.unwrap_err();
    assert!(!refused.permanent && !refused.unreachable, "{refused:?}");

    let down = lectern_common::testing::ReservedPort::new();
    let refused = self::channels(down.address().port()).send_email(&mail).await.unwrap_err();
    assert!(!refused.permanent && refused.unreachable, "{refused:?}");
}

#[tokio::test]
async fn a_webhook_post_is_signed_over_timestamp_and_body() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            headers.push(line.trim_end().to_owned());
        }
        let length: usize = headers
            .iter()
            .find_map(|header| {
                header.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
            })
            .unwrap()
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        tokio::io::AsyncReadExt::read_exact(&mut reader, &mut body).await.unwrap();
        let answer = r#"{"id":"sms-7"}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        );
        write.write_all(reply.as_bytes()).await.unwrap();
        (headers, String::from_utf8(body).unwrap())
    });
    let config = ChannelConfig {
        webhook: Some(super::config::WebhookConfig {
            url: format!("http://127.0.0.1:{port}/hook"),
            secret: Some("hook-secret".into()),
        }),
        ..ChannelConfig::default()
    };
    let channels = Channels::new(config, "https://lectern.example.cn".into(), "key".into());
    let payload = WebhookPayload {
        id: "del-1".into(),
        school_id: "school-1".into(),
        trigger: "overdue_1".into(),
        channel: "sms".into(),
        to: "+8613800138000".into(),
        language: "zh-CN".into(),
        subject: "s".into(),
        body: "b".into(),
        items: Vec::new(),
    };
    assert_eq!(channels.send_webhook(&payload, 1_700_000_000).await.unwrap(), "sms-7");
    let (headers, body) = server.await.unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|line| {
                line.split_once(": ")
                    .filter(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.to_owned())
            })
            .unwrap()
    };
    assert_eq!(header("x-lectern-timestamp"), "1700000000");
    assert_eq!(header("x-lectern-signature"), super::webhook::signature("hook-secret", "1700000000", &body));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["id"].as_str(), json["channel"].as_str(), json["trigger"].as_str()),
        (Some("del-1"), Some("sms"), Some("overdue_1"))
    );
}
