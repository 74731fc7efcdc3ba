//! Which second factors a user has, and which of them count: the organisation chooses which
//! methods count for its users (`organisations.mfa_*_allowed`); carrier staff, who act for
//! every customer, count only an authenticator app (an e-mail code is only as strong as the
//! mailbox).

use super::{AuthContext, AuthResult};
use crate::db::{
    self,
    orgs::{MfaMethods, Organisation},
    users::User,
};

/// A set of second factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factors {
    /// A confirmed authenticator app.
    pub totp: bool,
    /// E-mail codes.
    pub email: bool,
}

impl Factors {
    /// Whether the set has any factor.
    pub fn any(self) -> bool {
        self.totp || self.email
    }

    /// The factors of `self` that are also in `other`.
    pub fn and(self, other: Factors) -> Factors {
        Factors {
            totp: self.totp && other.totp,
            email: self.email && other.email,
        }
    }

    /// The names the API uses (`totp`, `email`), strongest first.
    pub fn names(self) -> Vec<String> {
        let mut names = Vec::new();
        if self.totp {
            names.push("totp".to_string());
        }
        if self.email {
            names.push("email".to_string());
        }
        names
    }
}

impl From<MfaMethods> for Factors {
    fn from(m: MfaMethods) -> Factors {
        Factors {
            totp: m.totp,
            email: m.email,
        }
    }
}

/// The factors that count for `user` of `org`.
pub fn allowed(user: &User, org: Option<&Organisation>) -> Factors {
    if user.is_staff {
        return Factors {
            totp: true,
            email: false,
        };
    }
    org.map_or(Factors::from(MfaMethods::ALL), |o| {
        Factors::from(o.mfa_methods)
    })
}

/// The factors `user_id` has set up (confirmed), whether or not they count.
pub async fn enrolled(ctx: &AuthContext<'_>, user_id: &str) -> AuthResult<Factors> {
    let pool = ctx.db.pool();
    Ok(Factors {
        totp: db::mfa::has_confirmed_totp(pool, user_id).await?,
        email: db::mfa::email_otp_enabled_at(pool, user_id)
            .await?
            .is_some(),
    })
}

/// The user's organisation (none for staff).
pub async fn org_of(ctx: &AuthContext<'_>, user: &User) -> AuthResult<Option<Organisation>> {
    Ok(match &user.org_id {
        Some(id) => db::orgs::find_by_id(ctx.db.pool(), id).await?,
        None => None,
    })
}

/// What `user` has and what counts of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserFactors {
    /// Set up.
    pub enrolled: Factors,
    /// Allowed by the organisation (or the staff rule).
    pub allowed: Factors,
}

impl UserFactors {
    /// Set up and allowed: what the user can sign in or step up with.
    pub fn counting(self) -> Factors {
        self.enrolled.and(self.allowed)
    }
}

/// [`UserFactors`] of `user`, with their organisation `org` already read.
pub async fn of_user_in(
    ctx: &AuthContext<'_>,
    user: &User,
    org: Option<&Organisation>,
) -> AuthResult<UserFactors> {
    Ok(UserFactors {
        enrolled: enrolled(ctx, &user.id).await?,
        allowed: allowed(user, org),
    })
}

/// [`UserFactors`] of `user`, reading their organisation.
pub async fn of_user(ctx: &AuthContext<'_>, user: &User) -> AuthResult<UserFactors> {
    let org = org_of(ctx, user).await?;
    of_user_in(ctx, user, org.as_ref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_both_set_up_and_allowed_counts() {
        let both = Factors {
            totp: true,
            email: true,
        };
        let email = Factors {
            totp: false,
            email: true,
        };
        assert_eq!(both.and(email), email);
        assert!(!Factors::default().and(both).any());
        assert_eq!(both.names(), vec!["totp", "email"]);
        assert_eq!(email.names(), vec!["email"]);
    }
}
