-- Sandbox refunds are accepted as PROCESSING and succeed a moment later, as WeChat Pay's do; the
-- provider's loop looks for the ones still processing.
CREATE INDEX sandbox_refunds_processing ON sandbox_refunds (created_at) WHERE status = 'PROCESSING';
