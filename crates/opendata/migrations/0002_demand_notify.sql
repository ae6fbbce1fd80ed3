-- 开放需求 reach the bureau's data staff as a notification (in-app by default; the administrator
-- may enable SMS or e-mail templates for the event like any other).
INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
('opendata.demand', 'opendata', '新的开放需求', '["标题","描述","提交时间"]', 401);

INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
('opendata.demand', 'inapp', 1, '新的开放需求：{标题}', '公众于 {提交时间} 提出开放需求“{标题}”：{描述}。请在“开放需求”中答复。', 0, 'system');
