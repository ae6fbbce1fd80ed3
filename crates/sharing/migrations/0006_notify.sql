-- 申请用数 notifications (in-app by default; the administrator may enable SMS or e-mail
-- templates for these events like any other): a step waiting for its approvers, the result
-- for the requester, a grant about to expire or revoked for the consuming department.
INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
('sharing.request_pending', 'sharing', '用数申请待审批', '["资源","申请部门","用途","审批环节","截止时间"]', 501),
('sharing.request_approved', 'sharing', '用数申请已通过', '["资源","提供部门","授权期限"]', 502),
('sharing.request_refused', 'sharing', '用数申请未通过', '["资源","环节","理由"]', 503),
('sharing.grant_expiring', 'sharing', '用数授权即将到期', '["资源","使用系统","到期日","剩余天数"]', 504),
('sharing.grant_revoked', 'sharing', '用数授权已撤销', '["资源","使用系统","理由"]', 505);

INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
('sharing.request_pending', 'inapp', 1, '用数申请待审批：{资源}', '{申请部门}申请使用“{资源}”，用途：{用途}。请于 {截止时间} 前完成{审批环节}审批。', 0, 'system'),
('sharing.request_approved', 'inapp', 1, '用数申请已通过：{资源}', '您申请使用的“{资源}”已获{提供部门}等各级审批同意，授权至 {授权期限}。', 0, 'system'),
('sharing.request_refused', 'inapp', 1, '用数申请未通过：{资源}', '您申请使用的“{资源}”在{环节}环节未获同意，理由：{理由}。', 0, 'system'),
('sharing.grant_expiring', 'inapp', 1, '用数授权即将到期：{资源}', '“{使用系统}”使用“{资源}”的授权将于 {到期日} 到期，还有 {剩余天数} 天；如需继续使用，请联系提供部门续期或重新申请。', 0, 'system'),
('sharing.grant_revoked', 'inapp', 1, '用数授权已撤销：{资源}', '“{使用系统}”使用“{资源}”的授权已被撤销，理由：{理由}。', 0, 'system');

-- When the consuming department was told that a grant is about to expire (NULL: not yet; a
-- renewal clears it so the new expiry is announced again).
ALTER TABLE sharing_grants ADD COLUMN expiry_notified_at BIGINT;
