"""住民ポータル (resident portal): residents sign in through an OpenID Connect identity provider (マイナンバーカード in
production, a development provider otherwise), link their sign-in to their benefit entitlements with the 確認番号
of the 確認書, see their notices and confirm the account their benefit is paid to (issue #5)."""
