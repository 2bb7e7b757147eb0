"""What the EPC charm tests (test_oai_charms.py, events_oai_charms.py) need per charm.

The action table is transcribed from the primitive contract in
docs/architecture.md; the tests check each charm's actions.yaml against it.
"""

CONTRACT = {
    "oai-hss": {
        "configure": {"git-repository": "string", "git-commit": "string", "realm": "string",
                      "s6a-address": "string", "mme-s6a-address": "string", "op": "string",
                      "apn": "string", "apn2": "string"},
        "provision-subscribers": {"imsi-first": "string", "msisdn-first": "string",
                                  "users": "integer", "k": "string", "op": "string"},
        "restart": {}, "status": {},
        "build": {"git-repository": "string", "git-commit": "string",
                  "cassandra-apt": "string", "cassandra-key-url": "string"},
        "wait-build": {},
    },
    "oai-mme": {
        "configure": {"git-repository": "string", "git-commit": "string", "realm": "string",
                      "mcc": "string", "mnc": "string", "tac": "integer",
                      "s1c-address": "string", "s11-address": "string",
                      "s6a-address": "string", "hss-s6a-address": "string",
                      "spgwc-s11-address": "string"},
        "wait-peer": {"step": "string"}, "restart": {}, "status": {},
        "build": {"git-repository": "string", "git-commit": "string"}, "wait-build": {},
    },
    "oai-spgwc": {
        "configure": {"git-repository": "string", "git-commit": "string", "realm": "string",
                      "dns1": "string", "dns2": "string", "s11-address": "string",
                      "sx-address": "string", "ue-pool": "string", "apn": "string",
                      "apn2": "string"},
        "restart": {}, "status": {},
        "build": {"git-repository": "string", "git-commit": "string", "spdlog-commit": "string"},
        "wait-build": {},
    },
    "oai-spgwu": {
        "configure": {"git-repository": "string", "git-commit": "string",
                      "s1u-address": "string", "sx-address": "string", "sgi-address": "string",
                      "sgi-gateway": "string", "spgwc-list": "string", "pdn-network": "string",
                      "nat": "boolean"},
        "wait-peer": {"step": "string"}, "restart": {}, "status": {},
        "build": {"git-repository": "string", "git-commit": "string", "spdlog-commit": "string"},
        "wait-build": {},
    },
}

K = "449C4B91AEACE2F80F3EE1C0DED0FFBA"
OP = "1006020F0A478BF6B699F15C062E42B3"
REPO = "https://github.com/simula/openairinterface-openair-{}.git"

GOOD = {
    "oai-hss": {"git-repository": REPO.format("hss"), "git-commit": "v1.1.0",
                "realm": "Simula.NorNet", "s6a-address": "172.16.6.129",
                "mme-s6a-address": "172.16.6.2", "op": OP, "apn": "default", "apn2": "internet"},
    "oai-mme": {"git-repository": REPO.format("mme"), "git-commit": "v1.1.0",
                "realm": "simula.nornet", "mcc": "242", "mnc": "01", "tac": 600,
                "s1c-address": "192.168.247.102/24", "s11-address": "172.16.1.102/24",
                "s6a-address": "172.16.6.2", "hss-s6a-address": "172.16.6.129",
                "spgwc-s11-address": "172.16.1.104"},
    "oai-spgwc": {"git-repository": REPO.format("spgwc"), "git-commit": "2020.w36",
                  "realm": "simula.nornet", "dns1": "8.8.8.8", "dns2": "8.8.4.4",
                  "s11-address": "172.16.1.104/24", "sx-address": "172.55.55.101/24",
                  "ue-pool": "12.1.1.0/24", "apn": "default", "apn2": "internet"},
    "oai-spgwu": {"git-repository": REPO.format("spgwu-tiny"), "git-commit": "v1.1.0",
                  "s1u-address": "192.168.248.159/24", "sx-address": "172.55.55.102/24",
                  "sgi-address": "10.254.1.203/24", "sgi-gateway": "10.254.1.1",
                  "spgwc-list": "172.55.55.101", "pdn-network": "12.1.1.0/24", "nat": True},
}

# One bad value per charm and the parameter the error must name.
BAD = {"oai-hss": ("op", "not-hex"), "oai-mme": ("mnc", "1"),
       "oai-spgwc": ("ue-pool", "12.1.1.1/24"), "oai-spgwu": ("sgi-gateway", "10.9.9.9")}

# charm -> (charm class, workload module, workload class, takes peer-timeout)
CLASSES = {
    "oai-hss": ("OaiHssCharm", "hss_workload", "HssWorkload", False),
    "oai-mme": ("OaiMmeCharm", "mme_workload", "MmeWorkload", True),
    "oai-spgwc": ("OaiSpgwcCharm", "spgwc_workload", "SpgwcWorkload", False),
    "oai-spgwu": ("OaiSpgwuCharm", "spgwu_workload", "SpgwuWorkload", True),
}
