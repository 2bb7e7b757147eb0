"""CQL that provisions the HSS database (vhss keyspace of OAI HSS Rel-14).

Rather than OAI's data_provisioning_users script, which takes K on its command
line and prints every row (K included) with --verbose, the charm writes these
statements to a 0600 file and runs `cqlsh --file`.  The rows are the ones that
script writes: the same columns, SQN 96, RAND, access restriction 41, AMBR
50/100 Mbit/s, QCI 9; OPc starts as a placeholder and `oai_hss --onlyloadkey`
then computes it from K and OP for every IMSI.
"""

import json

RAND = "2683b376d1056746de3b254012908e0e"
SQN = 96
ACCESS_RESTRICTION = 41
OPC_PLACEHOLDER = "0" * 32
MME_IDENTITY_ID = 3
MME_ISDN = "mme-isdn"
AMBR = {"Max-Requested-Bandwidth-UL": 50000000, "Max-Requested-Bandwidth-DL": 100000000}
HOME_AGENT = {"MIP-Home-Agent-Address": ["172.26.17.183"]}
MAX_USERS = 100000


class SubscriberRange(object):
    """IMSIs imsi_first.. (zero-padded to the same length) and MSISDNs msisdn_first.."""

    def __init__(self, imsi_first, msisdn_first, users):
        self.imsi_first = imsi_first
        self.msisdn_first = msisdn_first
        self.users = users

    def imsi(self, index):
        return str(int(self.imsi_first) + index).zfill(len(self.imsi_first))

    def msisdn(self, index):
        return str(int(self.msisdn_first) + index)

    @property
    def imsi_last(self):
        return self.imsi(self.users - 1)

    @property
    def msisdn_last(self):
        return self.msisdn(self.users - 1)

    def fits(self):
        """False when the last IMSI/MSISDN would need more digits than allowed."""
        return len(self.imsi_last) == len(self.imsi_first) and len(self.msisdn_last) <= 15


def cql_text(value):
    """A CQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _apn_configuration(context_id, apn, priority, preemption_capability):
    return json.dumps({
        "Context-Identifier": context_id,
        "PDN-Type": 0,
        "Service-Selection": apn,
        "EPS-Subscribed-QoS-Profile": {
            "QoS-Class-Identifier": 9,
            "Allocation-Retention-Priority": {
                "Priority-Level": priority,
                "Pre-emption-Capability": preemption_capability,
                "Pre-emption-Vulnerability": 0}},
        "AMBR": AMBR,
        "PDN-GW-Allocation-Type": 0,
        "MIP6-Agent-Info": HOME_AGENT,
    }, separators=(",", ":"))


def subscription_data(msisdn, apn, apn2):
    """The subscription_data JSON.  OAI's HSS reads both APNs as repeated
    "APN-Configuration" members of one object (rapidjson keeps duplicates), which
    a dict cannot express, so that object is assembled from its parts."""
    head = json.dumps({"Context-Identifier": 0,
                       "All-APN-Configurations-Included-Indicator": 0},
                      separators=(",", ":"))[:-1]
    profile = '{},"APN-Configuration":{},"APN-Configuration":{}}}'.format(
        head, _apn_configuration(0, apn, 15, 0), _apn_configuration(1, apn2, 13, 1))
    data = json.dumps({
        "Access-Restriction-Data": ACCESS_RESTRICTION,
        "Subscriber-Status": 0,
        "Network-Access-Mode": 2,
        "Regional-Subscription-Zone-Code": ["0x0123", "0x4567", "0x89AB", "0xCDEF", "0x1234",
                                            "0x5678", "0x9ABC", "0xDEF0", "0x2345", "0x6789"],
        "MSISDN": "0x" + msisdn,
        "AMBR": AMBR,
        "APN-Configuration-Profile": "@PROFILE@",
        "Subscribed-Periodic-RAU-TAU-Timer": 0,
    }, separators=(",", ":"))
    return '{{"Subscription-Data":{}}}'.format(data.replace('"@PROFILE@"', profile))


def subscriber_statements(subscribers, key, realm, apn, apn2):
    """TRUNCATE both subscriber tables, then one row pair per subscriber."""
    mme_host = "mme.{}".format(realm)
    lines = ["TRUNCATE vhss.users_imsi;", "TRUNCATE vhss.msisdn_imsi;"]
    for index in range(subscribers.users):
        imsi, msisdn = subscribers.imsi(index), subscribers.msisdn(index)
        lines.append(
            "INSERT INTO vhss.users_imsi (imsi, msisdn, access_restriction, key, opc, mmehost, "
            "mmeidentity_idmmeidentity, mmerealm, rand, sqn, subscription_data) VALUES "
            "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});".format(
                cql_text(imsi), msisdn, ACCESS_RESTRICTION, cql_text(key),
                cql_text(OPC_PLACEHOLDER), cql_text(mme_host), MME_IDENTITY_ID,
                cql_text(realm), cql_text(RAND), SQN,
                cql_text(subscription_data(msisdn, apn, apn2))))
        lines.append("INSERT INTO vhss.msisdn_imsi (msisdn, imsi) VALUES ({}, {});".format(
            msisdn, cql_text(imsi)))
    return lines


def mme_identity_statements(realm, ue_reachability=1):
    """The MME allowed to talk to this HSS (what data_provisioning_mme writes)."""
    values = "({}, {}, {}, {}, {})".format(MME_IDENTITY_ID, cql_text(MME_ISDN),
                                          cql_text("mme.{}".format(realm)), cql_text(realm),
                                          ue_reachability)
    columns = "(idmmeidentity, mmeisdn, mmehost, mmerealm, ue_reachability)"
    return ["TRUNCATE vhss.mmeidentity;", "TRUNCATE vhss.mmeidentity_host;",
            "INSERT INTO vhss.mmeidentity {} VALUES {};".format(columns, values),
            "INSERT INTO vhss.mmeidentity_host {} VALUES {};".format(columns, values)]
