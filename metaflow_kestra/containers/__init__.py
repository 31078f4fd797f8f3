"""Steps in containers: the worker image that Kestra's Docker task runner starts for each task.

`worker_image` builds that image (`metaflow-kestra image build`): Python, Metaflow and this
package at the deploying machine's versions, on a base the user names or on one built here
from Debian's packages (`debian_base`). `docker` runs the Docker CLI for both and turns its
failures into errors a person can act on.
"""
