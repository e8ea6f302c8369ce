from tongxin.registry.views import file, lists

app_name = "registry"
urlpatterns = [*lists.urlpatterns, *file.urlpatterns]
