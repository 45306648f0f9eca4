//! WeChat at the edge: exchanging a mini-program's `wx.login` code for the
//! user's openid with WeChat's `code2Session` ([`code2session`]), and
//! serving WeChat's domain-verification files for a `web-view`
//! ([`verification`]). The bindings and the sign-in itself belong to the
//! reader service's `FamilyService`; the gateway only proves who the WeChat
//! user is ([`sign_in`]), and forgets the session key WeChat hands it at once.

pub mod code2session;
pub mod sign_in;
pub mod verification;

pub use code2session::{Code2Session, WechatError, WechatUser};
pub use sign_in::WechatSignIn;
