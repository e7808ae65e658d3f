"""The LTI 1.3 claim names, message types, roles and service scopes we use."""

from __future__ import annotations

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEEP_LINKING_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DEEP_LINKING_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DEEP_LINKING_MESSAGE = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
DEEP_LINKING_LOG = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
MESSAGE_TYPES = {RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST}
LTI_RESOURCE_LINK = "ltiResourceLink"  # the content item type we return from deep linking

SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

# Context roles that teach: full URIs, the short forms the spec allows, and sub-roles
# (`membership/Instructor#TeachingAssistant`). Everything else, unknown roles included,
# and no roles at all, is a learner: the least a launch can grant.
TEACHING_ROLES = {"Instructor", "Administrator", "ContentDeveloper", "TeachingAssistant"}
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
MEMBERSHIP_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
SYSTEM_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"


def role_teaches(role: str) -> bool:
    """Whether one role string (full, short or sub-role) makes its holder an instructor."""
    if role in (INSTITUTION_ADMIN, SYSTEM_ADMIN):
        return True
    if role.startswith(MEMBERSHIP):
        return role[len(MEMBERSHIP) :] in TEACHING_ROLES
    if role.startswith(MEMBERSHIP_SUB):
        return role[len(MEMBERSHIP_SUB) :].split("#", 1)[0] in TEACHING_ROLES
    return role in TEACHING_ROLES


def roles_teach(roles: object) -> bool:
    """Whether any role of a launch teaches; anything that is not a list of strings: no."""
    if not isinstance(roles, list):
        return False
    return any(isinstance(role, str) and role_teaches(role) for role in roles)
