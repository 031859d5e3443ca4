import asyncio
from tests.helpers import Api, PASSWORD, bearer

async def test_probe(client, api: Api):
    learner = await api.register()
    for n in range(3):
        body = {"email": f"race{n}@example.com", "first_name": "R", "last_name": "R", "password": PASSWORD}
        rs = await asyncio.gather(*[client.post("/api/auth/register", json=body, headers={"X-Forwarded-For": f"10.1.{n}.{i}"}) for i in range(5)])
        print("race", [x.status_code for x in rs])
    r = await client.post("/api/auth/register", json={"email": "xy@example.com", "first_name": "A\x00", "last_name": "B", "password": PASSWORD}, headers={"X-Forwarded-For": "10.3.3.3"})
    print("NUL register", r.status_code, r.text[:300])
    r = await client.put("/api/auth/profile", json={"last_name": "A\x00"}, headers=learner.headers)
    print("NUL profile", r.status_code, r.text[:300])
    r = await client.post("/api/auth/login", json={"email": learner.email, "password": "Pass\x00word1"})
    print("NUL login pw", r.status_code, r.text[:300])
