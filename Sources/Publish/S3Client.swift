import AsyncHTTPClient
import SigV4
