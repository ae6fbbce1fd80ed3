-- Case status notifications to applicants (受理, 补正, 办结, 出件): the events, registered with
-- the notify module, and their default templates (SMS to the applicant's phone, in-app for an
-- applicant who applied online). Admins edit them like the hotline's.

INSERT INTO notify_events (code, source, label, placeholders, position) VALUES
('case.accepted', 'services', '办件受理', '["编号","事项","申请人","状态","补正材料","说明","送达方式"]', 201),
('case.supplement', 'services', '补正告知', '["编号","事项","申请人","状态","补正材料","说明","送达方式"]', 202),
('case.closed', 'services', '办件办结', '["编号","事项","申请人","状态","补正材料","说明","送达方式"]', 203),
('case.delivered', 'services', '办件出件', '["编号","事项","申请人","状态","补正材料","说明","送达方式"]', 204);

INSERT INTO notify_templates (event, channel, enabled, subject, body, updated_at, updated_by) VALUES
('case.accepted', 'inapp', 1, '办件已受理：{编号}', '您申请的“{事项}”（办件编号 {编号}）已受理，请留意办理进度。', 0, 'system'),
('case.accepted', 'sms', 1, '', '【一网通办】{申请人}，您申请的“{事项}”已受理，办件编号 {编号}，可凭办件编号查询办理进度。', 0, 'system'),
('case.supplement', 'inapp', 1, '请补正材料：{编号}', '您申请的“{事项}”（办件编号 {编号}）需补正以下材料：{补正材料}。说明：{说明}', 0, 'system'),
('case.supplement', 'sms', 1, '', '【一网通办】{申请人}，您申请的“{事项}”（办件编号 {编号}）需补正材料：{补正材料}。请及时补正，补正后继续办理。', 0, 'system'),
('case.closed', 'inapp', 1, '办件已办结：{编号}', '您申请的“{事项}”（办件编号 {编号}）已办结。', 0, 'system'),
('case.closed', 'sms', 1, '', '【一网通办】{申请人}，您申请的“{事项}”（办件编号 {编号}）已办结，可凭办件编号查询办理结果。', 0, 'system'),
('case.delivered', 'inapp', 1, '办件已出件：{编号}', '您申请的“{事项}”（办件编号 {编号}）的办理结果已送达，送达方式：{送达方式}。', 0, 'system'),
('case.delivered', 'sms', 1, '', '【一网通办】{申请人}，您申请的“{事项}”（办件编号 {编号}）的办理结果已送达（{送达方式}）。', 0, 'system');
