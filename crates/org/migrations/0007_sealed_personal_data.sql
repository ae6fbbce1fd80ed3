-- 密评: users' 手机号 and 身份证号 are stored sealed (SM4 + HMAC-SM3, kernel::sealed) and found by
-- their keyed HMAC-SM3 index. Rows written before are sealed at start-up (web::seal_at_rest).
ALTER TABLE org_users ADD COLUMN phone_idx TEXT;
ALTER TABLE org_users ADD COLUMN id_card_idx TEXT;
DROP INDEX org_users_id_card;
CREATE INDEX org_users_id_card_idx ON org_users (id_card_idx);
CREATE INDEX org_users_phone_idx ON org_users (phone_idx);
