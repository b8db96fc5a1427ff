// Alertline webhook media type for Zabbix (6.0 and later). Zabbix runs this with its own
// JavaScript engine (Duktape, ECMAScript 5.1): no let/const, arrow functions or template strings.
//
// Parameters (set in the media type; the defaults in media_alertline.yaml use these macros):
//   url       Alertline's base URL, e.g. http://127.0.0.1:8025
//   token     an Alertline token with scope ingest (alertline tokens create zabbix --scope ingest)
//   to        {ALERT.SENDTO}: the user's "Send to" (an Alertline user e-mail, group@any, or a group name)
//   summary   {EVENT.NAME}
//   host      {HOST.NAME}
//   severity  {EVENT.SEVERITY}
//   eventid   {EVENT.ID} (in recovery messages this is still the problem's id)
//   value     {EVENT.VALUE}: 1 problem, 0 recovery
//   update    {EVENT.UPDATE.STATUS}: 1 for an update (acknowledgement, comment) — not sent
//   message   {ALERT.MESSAGE}
var Alertline = {
    post: function (params) {
        var required = ['url', 'token', 'to', 'summary'];
        for (var i = 0; i < required.length; i++) {
            if (typeof params[required[i]] !== 'string' || params[required[i]].trim() === '' || params[required[i]].indexOf('{') === 0) {
                throw 'Alertline: parameter "' + required[i] + '" is missing';
            }
        }
        var to = params.to.split(/[,\s]+/).filter(function (s) { return s !== ''; });
        var body = {
            summary: params.summary,
            action: params.value === '0' ? 'resolve' : 'trigger',
            to: to
        };
        if (params.host && params.host.indexOf('{') !== 0) body.host = params.host;
        if (params.severity && params.severity.indexOf('{') !== 0) body.severity = params.severity;
        if (params.eventid && /^[0-9]+$/.test(params.eventid)) body.dedupKey = 'zabbix:' + params.eventid;
        if (params.message && params.message.indexOf('{') !== 0) body.details = params.message;

        var req = new HttpRequest();
        req.addHeader('Content-Type: application/json');
        req.addHeader('Authorization: Bearer ' + params.token);
        var url = params.url.replace(/\/+$/, '') + '/api/v1/alerts';
        var resp = req.post(url, JSON.stringify(body));
        var status = req.getStatus();
        if (status < 200 || status >= 300) {
            var detail = resp;
            try { detail = JSON.parse(resp).error; } catch (e) { /* not JSON */ }
            // 5xx and 429 are temporary: Zabbix retries the alert (media type attempts).
            throw 'Alertline answered ' + status + ': ' + detail;
        }
        return JSON.parse(resp);
    }
};

try {
    var params = JSON.parse(value);
    if (params.update === '1') {
        Zabbix.log(4, '[Alertline] update not sent (acknowledge in Alertline, or by call/SMS)');
        return 'OK';
    }
    var result = Alertline.post(params);
    Zabbix.log(4, '[Alertline] stored as alert ' + result.accepted[0].id);
    return 'OK';
} catch (error) {
    Zabbix.log(3, '[Alertline] failed: ' + error);
    throw 'Sending to Alertline failed: ' + error;
}
