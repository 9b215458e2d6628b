"""ecpa: the eCPA award-order flow for Taiwan's civil service, from Python.

Everything lives in the native module ``ecpa._ecpa`` and is re-exported here::

    import ecpa

    portal = ecpa.Portal("ecpa.db")          # or ":memory:", "postgres://…", "http://host:8080"
    check = ecpa.check_national_id("A123456789")
    assert check.valid and check.input == "A12345****"

Failures raise ``ecpa.EcpaError`` subclasses (``AuthError``, ``PinError`` …) carrying the
stable ``.code`` and ``.name`` of the Rust crate and the C ABI, and the messages in zh-TW and
English. Dates are ``datetime.date`` / ``datetime.datetime``, with a ``*_roc`` twin in the ROC
form (``108/04/03``). National IDs are masked (``A12345****``) wherever they are printed.
"""

from ._ecpa import *  # noqa: F401,F403
from ._ecpa import __version__ as __version__
from ._ecpa import _bench_rust_id_check as _bench_rust_id_check  # noqa: F401

__all__ = [
    "AccessRevoked",
    "AgencySummary",
    "ApplicationEntry",
    "AuditRecord",
    "AuthError",
    "AwardError",
    "AwardOrder",
    "AwardOrderSummary",
    "BindingError",
    "BulkIssueReport",
    "CARD_SUPPORT",
    "CardError",
    "CertificateChallenge",
    "CertificateTrust",
    "CitizenCard",
    "CitizenCardKey",
    "ConsentError",
    "ConsentRecord",
    "ConsentText",
    "DeliveryReport",
    "DetailsChange",
    "DirectoryError",
    "DirectoryImport",
    "DoctorReport",
    "DoctorRow",
    "EcpaError",
    "EmployeeSummary",
    "FieldValue",
    "FileMailer",
    "IdCheck",
    "InternalError",
    "InvalidInputError",
    "IssuedOrder",
    "Mail",
    "MaintenanceWindow",
    "NewAwardOrder",
    "NhiCard",
    "Notice",
    "OutboxStats",
    "PersonalRecord",
    "PinError",
    "PkiError",
    "Portal",
    "ProofingCorrection",
    "ProofingError",
    "ProofingPage",
    "ProofingQueryRow",
    "ProofingSubmission",
    "RecordCategory",
    "RegistrationError",
    "RegistrationReceipt",
    "RegistrationTerms",
    "SSO_ASSERTION_FIELD",
    "Session",
    "SessionInfo",
    "SoftwareCertificate",
    "SsoAssertion",
    "SsoIdentity",
    "StaffPage",
    "StagedCorrection",
    "StorageError",
    "Tally",
    "TestPki",
    "TodoItem",
    "TransportError",
    "UnsignedOrder",
    "UnsignedPage",
    "YearlyAwards",
    "check_national_id",
    "doctor",
    "error_message",
    "is_valid_national_id",
    "read_orders_csv",
]
