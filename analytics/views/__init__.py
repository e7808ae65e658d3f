"""Instructor pages: my courses, a course's dashboard, a quiz's statistics, a learner's
profile, and a CSV download of every table on them.

The numbers come from analytics.statistics and analytics.misconceptions; these modules only
check access (a course's instructors and superusers; anyone else gets 404), parse the query
string (a bad value is a 400 that names the parameter), format numbers for reading and
draw the charts (analytics.charts); analytics.exports holds the CSV columns.
"""
